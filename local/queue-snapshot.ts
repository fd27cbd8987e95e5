// Keeps the embedded SQS's messages across restarts: the emulator holds them in memory only, so the local
// stack writes what each queue holds to disk and sends it back at the next start.

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { HeldMessage } from './emulators.js';

export type QueueContents = Readonly<Record<string, readonly HeldMessage[]>>;

const BATCH = 10;
// SendMessageBatch refuses more than 1 MiB in all, and one message alone may come close to it.
const BATCH_BYTES = 900_000;

/** Splits messages into batches of at most ten and at most BATCH_BYTES of bodies and attributes. */
const batches = (messages: readonly HeldMessage[]): HeldMessage[][] => {
  const result: HeldMessage[][] = [];
  let current: HeldMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size =
      Buffer.byteLength(message.body, 'utf8') + Buffer.byteLength(JSON.stringify(message.attributes), 'utf8');
    if (current.length === BATCH || (current.length > 0 && bytes + size > BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
};

/** Writes the snapshot atomically: a crash mid-write leaves the previous one whole. */
export const saveSnapshot = async (path: string, contents: QueueContents): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(contents));
  await rename(temporary, path);
};

const readSnapshot = async (path: string): Promise<QueueContents> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as QueueContents;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return {};
    throw error;
  }
};

/**
 * Sends every saved message back to its queue, by name, and returns how many went back. The file is kept until
 * the next save replaces it, so a crash during restore loses nothing; a message sent twice is harmless, since
 * persisting an event is idempotent.
 */
export const restoreSnapshot = async (
  path: string,
  client: SQSClient,
  queueUrls: Readonly<Record<string, string>>,
): Promise<number> => {
  const contents = await readSnapshot(path);
  let restored = 0;
  for (const [name, messages] of Object.entries(contents)) {
    const queueUrl = queueUrls[name];
    if (queueUrl === undefined) continue;
    for (const batch of batches(messages)) {
      const entries = batch.map((message, j) => ({
        Id: String(j),
        MessageBody: message.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([key, value]) => [
            key,
            { DataType: value.DataType, StringValue: value.StringValue },
          ]),
        ),
      }));
      const { Failed = [] } = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      if (Failed.length > 0)
        throw new Error(`could not restore ${Failed.length} messages to ${name}: ${Failed[0]?.Message}`);
      restored += entries.length;
    }
  }
  return restored;
};
