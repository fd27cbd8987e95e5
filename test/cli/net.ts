// Where a CLI test's local stack is, or is not: a refused port, an empty DATA_DIR, a record like npm start's.

import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableName } from '../../lib/definitions/tables.js';
import type { LocalStackRecord } from '../../local/discovery.js';

/** Binds a free loopback port and lets it go again: connections to it are then refused at once. */
export const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

/** The pid of a process that has already ended. */
export const endedPid = (): number => {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('no pid');
  return pid;
};

/** A DATA_DIR no stack has written to, so a test never finds the developer's own running stack. */
export const emptyDataDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'aircall-cli-'));

/** The record a stack whose DynamoDB is at `dynamodb` would have written. */
export const stackRecord = (options: {
  readonly dynamodb: string;
  readonly tables: Readonly<Record<TableName, string>>;
  /** @default this process, so the record reads as a live stack's */
  readonly pid?: number;
}): LocalStackRecord => ({
  pid: options.pid ?? process.pid,
  runtime: 'v24.0.0',
  startedAt: '2022-03-05T11:00:00.000Z',
  host: '127.0.0.1',
  endpoints: {
    webhookUrl: 'http://127.0.0.1:1/aircall/webhook',
    dynamodb: options.dynamodb,
    sqs: 'http://127.0.0.1:1',
    s3: 'http://127.0.0.1:1',
  },
  ports: { webhook: 1, dynamodb: Number(new URL(options.dynamodb).port), sqs: 1 },
  account: 'local',
  token: 'recorded-dev-token',
  tables: options.tables,
  queuedAtStart: { queue: 0, deadLetterQueue: 0 },
  released: 0,
  queues: {
    queueUrl: 'http://127.0.0.1:1/000000000000/events',
    deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/events-dlq',
  },
});
