// Where a handler's AWS clients send their requests: the SDK's own chain on Lambda, an explicit endpoint locally.

/**
 * Left empty on Lambda, where region and credentials come from the runtime. The local stack and the tests
 * name the embedded emulator's endpoint, its region and dummy credentials, so that nothing is read from the
 * process environment and two stacks can run side by side in one process.
 */
export interface ClientTarget {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}
