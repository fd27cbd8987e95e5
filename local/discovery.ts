// The running local stack's own record of where it listens, written into DATA_DIR at start, so the CLI finds it.

import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableName } from '../lib/definitions/tables.js';
import type { LocalEndpoints } from './settings.js';

/** The file `npm start` writes into DATA_DIR, and removes at a clean stop. */
export const STACK_FILE = 'local-stack.json';

export interface LocalStackRecord {
  /** Process id of the stack (tsx's child of `npm start`), to tell a record left by a killed stack from a live one. */
  readonly pid: number;
  /** The Node.js version the stack runs on. */
  readonly runtime: string;
  readonly startedAt: string;
  /** Address every server listens on. */
  readonly host: string;
  readonly endpoints: LocalEndpoints;
  /** Ports in use, the simulator's included when it runs. */
  readonly ports: Readonly<Record<string, number>>;
  /** The development token and the account it is registered under. */
  readonly account: string;
  readonly token: string;
  readonly tables: Readonly<Record<TableName, string>>;
  readonly queues: { readonly queueUrl: string; readonly deadLetterQueueUrl: string };
  /** The media archive on the embedded S3 and SQS (`endpoints.s3`): absent from a record of an older stack. */
  readonly media?: {
    readonly bucket: string;
    readonly queueUrl: string;
    readonly deadLetterQueueUrl: string;
  };
  /** What the queues held when this stack started, and how many of those it released from a killed run. */
  readonly queuedAtStart: { readonly queue: number; readonly deadLetterQueue: number };
  readonly released: number;
  readonly simulatorApiUrl?: string;
}

export const stackFilePath = (dataDir: string): string => join(dataDir, STACK_FILE);

/** Written atomically and readable by its owner only: it holds the development token. */
export const writeStackRecord = async (dataDir: string, record: LocalStackRecord): Promise<void> => {
  const path = stackFilePath(dataDir);
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
};

/** The record in `dataDir`, or undefined when no stack has written one there. */
export const readStackRecord = async (dataDir: string): Promise<LocalStackRecord | undefined> => {
  let text: string;
  try {
    text = await readFile(stackFilePath(dataDir), 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (!isStackRecord(parsed)) throw new Error(`${stackFilePath(dataDir)} is not a local stack record`);
  return parsed;
};

export const removeStackRecord = (dataDir: string): Promise<void> =>
  rm(stackFilePath(dataDir), { force: true });

/** Whether the process that wrote a record still runs: signal 0 checks without sending anything. */
export const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
};

const isStackRecord = (value: unknown): value is LocalStackRecord => {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Record<keyof LocalStackRecord, unknown>>;
  const endpoints = record.endpoints as Partial<Record<keyof LocalEndpoints, unknown>> | undefined;
  return (
    typeof record.pid === 'number' &&
    typeof record.token === 'string' &&
    typeof record.account === 'string' &&
    typeof record.tables === 'object' &&
    record.tables !== null &&
    typeof endpoints === 'object' &&
    endpoints !== null &&
    typeof endpoints.dynamodb === 'string' &&
    typeof endpoints.webhookUrl === 'string'
  );
};
