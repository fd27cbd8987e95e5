// In-memory fakes of the persist ports with the same conditional semantics as the DynamoDB and SQS adapters.

import type {
  AppendResult,
  DeadLetter,
  DeadLetterQueue,
  EventLog,
  EventRecord,
  MediaJob,
  MediaJobQueue,
  ReceiptLog,
  StateResult,
  StateStore,
  StateWrite,
  StoredValue,
} from '../../lambdas/persist/ports.js';
import { ExactInteger } from '../../lib/definitions/json.js';
import type { Receipt } from '../../lib/definitions/receipts.js';
import { perStateTable, type StateTableName } from '../../lib/definitions/tables.js';

type Item = Record<string, StoredValue>;

/** What a fake store reports consuming per write it makes; none by default, as a store that reports nothing. */
export interface FakeCapacity {
  readonly writeUnits?: number;
}

const withUnits = <T extends object>(result: T, capacity: FakeCapacity): T & { writeUnits?: number } =>
  capacity.writeUnits === undefined ? result : { ...result, writeUnits: capacity.writeUnits };

export class MemoryEventLog implements EventLog {
  readonly rows = new Map<string, Item>();

  constructor(private readonly capacity: FakeCapacity = {}) {}

  async append(record: EventRecord): Promise<AppendResult> {
    const key = `${record.pk}|${record.sk}`;
    if (this.rows.has(key)) return { stored: false };
    this.rows.set(key, { ...record.attributes, pk: record.pk, sk: record.sk });
    return withUnits({ stored: true }, this.capacity);
  }

  /** Rows of one partition in sort-key order, as a Query would return them. */
  partition(pk: string): Item[] {
    return [...this.rows.values()]
      .filter((row) => row.pk === pk)
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
  }
}

/** Receipts kept by key, as the events table keeps them: a put under a key already there replaces it. */
export class MemoryReceiptLog implements ReceiptLog {
  readonly receipts = new Map<string, Receipt>();
  /** Set, every write fails with it, as a throttled or unreachable table would. */
  failWith: Error | undefined;

  async write(receipts: readonly Receipt[]): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    for (const receipt of receipts) this.receipts.set(`${receipt.pk}|${receipt.sk}`, receipt);
  }

  /** Every event listed, as `pk|sk`, in the order listed. */
  listed(): string[] {
    return [...this.receipts.values()].flatMap((receipt) => receipt.events.map(([pk, sk]) => `${pk}|${sk}`));
  }
}

const readPath = (item: Item | undefined, path: readonly string[]): StoredValue | undefined => {
  let value: StoredValue | undefined = item;
  for (const segment of path) {
    if (
      value === null ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      value instanceof Uint8Array ||
      value instanceof ExactInteger
    ) {
      return undefined;
    }
    value = value[segment];
  }
  return value;
};

export class MemoryStateStore implements StateStore {
  /** Keyed by the id as a number, or by its digits when it is beyond 2^53. */
  readonly tables: Record<StateTableName, Map<number | string, Item>> = perStateTable(
    () => new Map<number | string, Item>(),
  );

  constructor(private readonly capacity: FakeCapacity = {}) {}

  async apply(write: StateWrite): Promise<StateResult> {
    const table = this.tables[write.table];
    const key = typeof write.id === 'number' ? write.id : write.id.toString();
    const current = table.get(key);
    const present = (item: Item | undefined) =>
      write.probe === undefined
        ? {}
        : { present: write.probe.filter((name) => item !== undefined && item[name] !== undefined) };
    if (current !== undefined && current.account !== write.account)
      return { outcome: 'foreign', ...present(current) };
    const stored = readPath(current, write.guard);
    if (stored !== undefined && !(typeof stored === 'string' && stored < write.orderKey)) {
      return { outcome: 'stale', ...present(current) };
    }
    const next: Item = { ...current, id: write.id, ...structuredClone(write.set) };
    for (const name of write.remove) delete next[name];
    table.set(key, next);
    return withUnits({ outcome: 'applied' as const, ...present(next) }, this.capacity);
  }
}

/** The media job queue as a list of what was sent. */
export class MemoryMediaJobQueue implements MediaJobQueue {
  readonly jobs: MediaJob[] = [];
  /** When set, every send rejects with it, as an unreachable queue would. */
  failure: Error | undefined;

  async send(jobs: readonly MediaJob[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.jobs.push(...jobs);
  }
}

export class MemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  /** When set, every send rejects with it, as an unreachable queue would. */
  failure: Error | undefined;

  async send(letter: DeadLetter): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.letters.push(letter);
  }
}
