// What the fault tests share: distinct call events to send, a bounded-concurrency sender that keeps every answer, and
// counts of what the tables hold.

import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { sampleBody } from '../../support/fixtures.js';
import { post, type TestLocalStack, TOKEN } from '../../support/local.js';

export interface Sent {
  readonly id: number;
  /** The webhook's answer; 0 when the connection failed. */
  readonly status: number;
}

const CREATED = JSON.parse(sampleBody('captured-outbound-call.created')) as {
  readonly data: Record<string, unknown>;
};

/** A `call.created` of its own call for each id, with the test's token. */
export const callCreated = (id: number): string =>
  JSON.stringify({ ...CREATED, token: TOKEN, data: { ...CREATED.data, id } });

/**
 * Posts each body once, `concurrency` at a time, in order of the list; `beforeEach` runs before the i-th post is
 * started, so a test can change a fault at a chosen point of the stream.
 */
export const sendAll = async <T extends { readonly id: number; readonly body: string }>(
  url: string,
  items: readonly T[],
  concurrency: number,
  beforeEach?: (index: number) => Promise<void> | void,
): Promise<Sent[]> => {
  const answers: Sent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item === undefined) return;
      await beforeEach?.(index);
      const status = await post(url, item.body).catch(() => 0);
      answers.push({ id: item.id, status });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
};

/** Items of a table, counted with a paged COUNT scan straight at the emulator. */
export const countItems = async (local: TestLocalStack, table: 'calls' | 'events'): Promise<number> => {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await local.documents.send(
      new ScanCommand({ TableName: local.settings.tables[table], Select: 'COUNT', ExclusiveStartKey: start }),
    );
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return total;
};

/** How many times each value occurs. */
export const tally = <T>(values: readonly T[]): Map<T, number> => {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
};
