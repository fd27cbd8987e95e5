// Runs `npm start`'s entry point as a child process on a data directory, and finds it through the record it writes.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type LocalStackRecord, readStackRecord } from '../../local/discovery.js';
import { waitFor } from './local.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StackProcess {
  readonly child: ChildProcess;
  readonly record: LocalStackRecord;
  /** Everything the process printed so far, for a failing test's message. */
  output(): string;
  /** Resolves with the signal or exit code once the process has ended. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

/**
 * Starts `local/start.ts` on free ports (0) under the same Node.js as the test, and resolves once the stack has
 * recorded itself in `dataDir`: a record left by an earlier process there is told apart by its pid.
 */
export const spawnLocalStack = async (
  dataDir: string,
  env: Readonly<Record<string, string>> = {},
): Promise<StackProcess> => {
  const chunks: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: dataDir,
      PORT: '0',
      DYNAMODB_PORT: '0',
      SQS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  const record = await waitFor(async () => {
    if (ended) throw new Error(`the local stack exited before it was ready:\n${chunks.join('')}`);
    const found = await readStackRecord(dataDir).catch(() => undefined);
    return found?.pid === child.pid ? found : undefined;
  }, 30_000).catch(async (error: unknown) => {
    // A stack that never became ready is not left running behind the failed test.
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return { child, record, exited, output: () => chunks.join('') };
};
