// An in-memory CliIo for tests: keeps what a run writes, text and bytes, with a fixed clock and a chosen target.

import { Writable } from 'node:stream';
import type { ByteOutput } from '../../cli/command.js';
import type { CliIo } from '../../cli/run.js';
import type { ResolveTarget } from '../../cli/target.js';

export interface RecordingIo extends CliIo {
  out(): string;
  err(): string;
  /** How many times the run asked for its target. */
  resolutions(): number;
}

/** Fails the test's expectations rather than reaching anything real. */
export const noTarget: ResolveTarget = () => Promise.reject(new Error('no target in this test'));

export const recordingIo = (
  options: {
    readonly resolveTarget?: ResolveTarget;
    readonly env?: Readonly<Record<string, string | undefined>>;
    readonly tty?: boolean;
    readonly now?: Date;
    /** What standard input holds; without it the run has none. */
    readonly stdin?: string;
    /** Standard output for bytes; without it the run has none. */
    readonly stdoutBytes?: ByteOutput;
  } = {},
): RecordingIo => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let resolutions = 0;
  const resolve = options.resolveTarget ?? noTarget;
  return {
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
    stderrIsTty: options.tty ?? false,
    env: options.env ?? {},
    ...(options.stdin === undefined ? {} : { readStdin: async () => options.stdin ?? '' }),
    ...(options.stdoutBytes === undefined ? {} : { stdoutBytes: options.stdoutBytes }),
    now: () => options.now ?? new Date('2022-03-05T12:00:00Z'),
    resolveTarget: (targetOptions) => {
      resolutions += 1;
      return resolve(targetOptions);
    },
    out: () => stdout.join(''),
    err: () => stderr.join(''),
    resolutions: () => resolutions,
  };
};

export interface ByteSink extends ByteOutput {
  /** Everything written so far. */
  bytes(): Buffer;
}

/** A standard output for bytes that keeps them, a pipe unless `isTty` says it is a terminal. */
export const byteSink = (isTty = false): ByteSink => {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, isTty, bytes: () => Buffer.concat(chunks) };
};
