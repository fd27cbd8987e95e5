// Captures everything a call writes to stdout, stderr and the console, so a test can assert on what was logged.

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export interface Captured<T> {
  readonly result: T;
  /** All text written while the call ran; nothing of it reaches the terminal. */
  readonly output: string;
  readonly elapsedMs: number;
}

/** Sends every write to the process's streams and console into a buffer, until the returned release is called. */
const intercept = (): { output: () => string; release: () => void } => {
  const chunks: string[] = [];
  const record = (chunk: unknown): void => {
    chunks.push(chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk));
  };
  const { stdout, stderr } = process;
  const writes = { stdout: stdout.write, stderr: stderr.write };
  const consoleMethods = CONSOLE_METHODS.map((name) => [name, console[name]] as const);
  const fakeWrite = ((chunk: unknown, ...rest: unknown[]): boolean => {
    record(chunk);
    // Stream writes take an optional callback last; call it so a writer waiting on it does not hang.
    const callback = rest.at(-1);
    if (typeof callback === 'function') callback();
    return true;
  }) as typeof stdout.write;
  stdout.write = fakeWrite;
  stderr.write = fakeWrite;
  for (const name of CONSOLE_METHODS)
    console[name] = (...args: unknown[]) => record(`${args.map(String).join(' ')}\n`);
  return {
    output: () => chunks.join(''),
    release: () => {
      stdout.write = writes.stdout;
      stderr.write = writes.stderr;
      for (const [name, method] of consoleMethods) console[name] = method;
    },
  };
};

/** Runs `fn` with output captured. Calls must not overlap: the streams are shared by the whole worker. */
export const captureOutput = async <T>(fn: () => Promise<T>): Promise<Captured<T>> => {
  const captured = intercept();
  const started = performance.now();
  try {
    const result = await fn();
    return { result, output: captured.output(), elapsedMs: performance.now() - started };
  } finally {
    captured.release();
  }
};

/** The same for synchronous work, such as a CDK synthesis that reports its bundling on stderr. */
export const captureOutputSync = <T>(fn: () => T): Omit<Captured<T>, 'elapsedMs'> => {
  const captured = intercept();
  try {
    const result = fn();
    return { result, output: captured.output() };
  } finally {
    captured.release();
  }
};
