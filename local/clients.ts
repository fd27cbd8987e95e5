// How a client on this machine reaches the local stack's emulators: region, dummy credentials, endpoints.
// It imports no emulator, so the CLI can use it without loading one.

import type { ClientTarget } from '../lambdas/shared/aws.js';

/** The region every local client uses: fauxqs builds queue ARNs and URLs from the region a request is signed for. */
export const LOCAL_REGION = 'us-east-1';

/** Neither emulator checks credentials, but the SDK refuses to sign a request without some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The address every local server listens on unless the user names another: loopback, unreachable from the network. */
export const LOOPBACK = '127.0.0.1';

/** Where an SDK client of an embedded emulator sends its requests. */
export const localClientTarget = (endpoint: string): ClientTarget => ({
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  endpoint,
});

/**
 * Options for an SQS client of the embedded queue. fauxqs names its queues `http://sqs.<region>.localhost:<port>/…`,
 * a host glibc does not resolve, so requests go to the endpoint rather than to the queue URL's host.
 */
export const localSqsClientConfig = (endpoint: string) =>
  ({ ...localClientTarget(endpoint), useQueueUrlAsEndpoint: false }) as const;

/** A URL for a client on this machine: a server bound to every interface is still reached through loopback. */
export const urlFor = (host: string, port: number): string => {
  const reachable = host === '0.0.0.0' || host === '::' ? LOOPBACK : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
};
