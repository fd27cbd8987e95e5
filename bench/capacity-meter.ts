// A metering proxy in front of the embedded DynamoDB: it forwards every request unchanged and bills each write as
// DynamoDB would, from the item before and after it, for the table and each of its global secondary indexes.

import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { IndexDefinition, TableDefinition } from '../lib/definitions/tables.js';
import { localClientTarget } from '../local/clients.js';
import { indexEntry, itemSize, type StoredItem, writeUnits } from './wru.js';

export interface TableUnits {
  /** Write units of the table itself. */
  readonly base: number;
  /** Write units of each global secondary index of the table, by index name. */
  readonly indexes: Readonly<Record<string, number>>;
}

export interface MeterTotals {
  /** By logical table name: every table the meter knows, written or not. */
  readonly tables: Readonly<Record<string, TableUnits>>;
  /** Writes metered: each request of a batch or a transaction counts as one. */
  readonly writes: number;
  /** Of those, the writes refused because their condition failed: billed, with the item left as it was. */
  readonly failedConditions: number;
  /** Writes the meter could not size (one of its own reads failed, or a refused update it could not replay). */
  readonly unmetered: number;
}

export interface CapacityMeterOptions {
  /** The emulator's origin, e.g. `http://127.0.0.1:8000`. */
  readonly upstream: string;
  /** Physical table name to logical name; writes to any other table are forwarded unmetered. */
  readonly tables: Readonly<Record<string, string>>;
  /** The table definitions, by logical name: keys to find an item by, and the indexes a write may touch. */
  readonly definitions: Readonly<Record<string, TableDefinition>>;
}

export interface CapacityMeter {
  /** `http://127.0.0.1:<port>`, to give DynamoDB clients in place of the emulator's endpoint. */
  readonly endpoint: string;
  /** A copy of the totals since the start or the last reset. */
  totals(): MeterTotals;
  reset(): void;
  /**
   * Forwards writes unmetered (no reads around them), so that a timed phase runs at the emulator's pace. Those writes
   * go around the item locks too: resume once they are done.
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Every write unit of the totals: tables and indexes. */
export const totalUnits = (totals: MeterTotals): number =>
  Object.values(totals.tables).reduce(
    (sum, table) => sum + table.base + Object.values(table.indexes).reduce((a, b) => a + b, 0),
    0,
  );

// ---- DynamoDB's JSON on the wire -------------------------------------------------------------------------------

type Json = Readonly<Record<string, unknown>>;

const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
};

const texts = (value: unknown): string[] => {
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
  return value.map(text);
};

/**
 * A number as the table gives it back (`1.50` as `1.5`, `1e2` as `100`): plain digits, no exponent, no leading or
 * trailing zeros. A put's item is taken as the item stored, so it must compare equal to what a read returns.
 */
const canonicalNumber = (value: string): string => {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value.trim());
  if (match === null) throw new Error(`not a number: ${value}`);
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const all = whole + fraction;
  const first = all.search(/[1-9]/);
  if (first === -1) return '0';
  const digits = all.slice(first).replace(/0+$/, '');
  // Where the decimal point falls in `digits`.
  const point = whole.length + Number(exponent) - first;
  const integer = point <= 0 ? '0' : digits.slice(0, point).padEnd(point, '0');
  const decimals = point < 0 ? '0'.repeat(-point) + digits : digits.slice(point);
  return `${sign === '-' ? '-' : ''}${integer}${decimals === '' ? '' : `.${decimals}`}`;
};

/** Bytes as the SDK's reads give them: a plain Uint8Array, which a Buffer does not deep-equal. */
const bytes = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, 'base64'));

/** One attribute value as the wire carries it, in the form the SDK's own reads give it. */
const fromWire = (json: unknown): AttributeValue => {
  const [entry] = isJson(json) ? Object.entries(json) : [];
  if (entry === undefined) throw new Error(`not an attribute value: ${JSON.stringify(json)}`);
  const [type, value] = entry;
  switch (type) {
    case 'S':
      return { S: text(value) };
    case 'N':
      return { N: canonicalNumber(text(value)) };
    case 'B':
      return { B: bytes(text(value)) };
    case 'SS':
      return { SS: texts(value) };
    case 'NS':
      return { NS: texts(value).map(canonicalNumber) };
    case 'BS':
      return { BS: texts(value).map(bytes) };
    case 'BOOL':
      return { BOOL: value === true };
    case 'NULL':
      return { NULL: true };
    case 'L':
      if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
      return { L: value.map(fromWire) };
    case 'M':
      return { M: itemFromWire(value) };
    default:
      throw new Error(`unknown attribute type ${type}`);
  }
};

const itemFromWire = (json: unknown): Record<string, AttributeValue> => {
  if (!isJson(json)) throw new Error(`not an item: ${JSON.stringify(json)}`);
  return Object.fromEntries(Object.entries(json).map(([name, value]) => [name, fromWire(value)]));
};

// ---- what a request writes -------------------------------------------------------------------------------------

/** What one write does to its item; an update keeps its request, to be replayed when its condition fails. */
type Action =
  | { readonly kind: 'put'; readonly item: StoredItem }
  | { readonly kind: 'update'; readonly request: Json }
  | { readonly kind: 'delete' }
  | { readonly kind: 'check' };

interface PlannedWrite {
  readonly physical: string;
  readonly logical: string;
  readonly definition: TableDefinition;
  readonly key: StoredItem;
  readonly action: Action;
  /** 2 in a transaction, which DynamoDB bills at twice the units of the same write alone. */
  readonly factor: number;
}

const keyNames = (definition: TableDefinition): string[] => [
  definition.partitionKey.name,
  ...(definition.sortKey ? [definition.sortKey.name] : []),
];

/** The primary key of an item: a put carries its key inside the item. */
const keyOf = (definition: TableDefinition, item: StoredItem): StoredItem => {
  const key: Record<string, AttributeValue> = {};
  for (const name of keyNames(definition)) {
    const value = item[name];
    if (value === undefined) throw new Error(`a ${definition.name} item without its key ${name}`);
    key[name] = value;
  }
  return key;
};

const lockKeyOf = (write: PlannedWrite): string =>
  `${write.physical}\u0000${JSON.stringify(keyNames(write.definition).map((name) => write.key[name]))}`;

type Resolve = (
  table: unknown,
) =>
  | { readonly physical: string; readonly logical: string; readonly definition: TableDefinition }
  | undefined;

/** One write of a PutItem, UpdateItem, DeleteItem or ConditionCheck shape, or undefined for a table not metered. */
const planOne = (
  resolve: Resolve,
  kind: Action['kind'],
  request: unknown,
  factor: number,
): PlannedWrite | undefined => {
  if (!isJson(request)) throw new Error(`not a write request: ${JSON.stringify(request)}`);
  const table = resolve(request.TableName);
  if (table === undefined) return undefined;
  if (kind === 'put') {
    const item = itemFromWire(request.Item);
    return { ...table, key: keyOf(table.definition, item), action: { kind, item }, factor };
  }
  const key = itemFromWire(request.Key);
  const action: Action = kind === 'update' ? { kind, request } : { kind };
  return { ...table, key, action, factor };
};

const isPlanned = (write: PlannedWrite | undefined): write is PlannedWrite => write !== undefined;

const SINGLE: Readonly<Record<string, Action['kind']>> = {
  PutItem: 'put',
  UpdateItem: 'update',
  DeleteItem: 'delete',
};

const TRANSACTION_ACTIONS: Readonly<Record<string, Action['kind']>> = {
  Put: 'put',
  Update: 'update',
  Delete: 'delete',
  ConditionCheck: 'check',
};

/** The requests of a BatchWriteItem's `RequestItems` (or of its answer's `UnprocessedItems`). */
const planBatch = (resolve: Resolve, requestItems: unknown): PlannedWrite[] =>
  Object.entries(isJson(requestItems) ? requestItems : {})
    .flatMap(([tableName, requests]) =>
      (Array.isArray(requests) ? requests : []).map((request: unknown) => {
        if (!isJson(request)) throw new Error(`not a batch write request: ${JSON.stringify(request)}`);
        return isJson(request.PutRequest)
          ? planOne(resolve, 'put', { TableName: tableName, ...request.PutRequest }, 1)
          : planOne(
              resolve,
              'delete',
              { TableName: tableName, ...(isJson(request.DeleteRequest) ? request.DeleteRequest : {}) },
              1,
            );
      }),
    )
    .filter(isPlanned);

/** The metered writes of a request: none for a read, or for writes to tables the meter does not know. */
const planWrites = (resolve: Resolve, operation: string, body: Json): PlannedWrite[] => {
  const single = SINGLE[operation];
  if (single !== undefined) return [planOne(resolve, single, body, 1)].filter(isPlanned);
  if (operation === 'BatchWriteItem') return planBatch(resolve, body.RequestItems);
  if (operation === 'TransactWriteItems') {
    const items: unknown[] = Array.isArray(body.TransactItems) ? body.TransactItems : [];
    return items
      .flatMap((item) =>
        Object.entries(isJson(item) ? item : {}).map(([name, request]) => {
          const kind = TRANSACTION_ACTIONS[name];
          return kind === undefined ? undefined : planOne(resolve, kind, request, 2);
        }),
      )
      .filter(isPlanned);
  }
  return [];
};

// ---- the sizing rules ------------------------------------------------------------------------------------------

const sizeOf = (item: StoredItem | undefined): number => (item === undefined ? 0 : itemSize(item));

/**
 * An index's units for one change of an item: a write of the entry that appears, or a delete of the one that goes,
 * a delete and a put when its keys move, one write of the larger entry when only projected values change, and
 * nothing when the entry is the same (an attribute it does not project changed) or there is none.
 */
const indexUnits = (
  definition: TableDefinition,
  index: IndexDefinition,
  before: StoredItem | undefined,
  after: StoredItem | undefined,
): number => {
  const old = before === undefined ? undefined : indexEntry(before, definition, index);
  const next = after === undefined ? undefined : indexEntry(after, definition, index);
  if (old === undefined) return next === undefined ? 0 : writeUnits(itemSize(next));
  if (next === undefined) return writeUnits(itemSize(old));
  const indexKeys = [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])];
  if (indexKeys.some((name) => !isDeepStrictEqual(old[name], next[name])))
    return writeUnits(itemSize(old)) + writeUnits(itemSize(next));
  if (isDeepStrictEqual(old, next)) return 0;
  return writeUnits(Math.max(itemSize(old), itemSize(next)));
};

interface Charge {
  readonly logical: string;
  readonly base: number;
  readonly indexes: Readonly<Record<string, number>>;
  readonly failed: boolean;
}

/** A write that took place: the table billed on the larger of the item before and after, each index on its change. */
const writtenCharge = (
  write: PlannedWrite,
  before: StoredItem | undefined,
  after: StoredItem | undefined,
): Charge => ({
  logical: write.logical,
  // A condition check changes nothing: it is billed on the item it read.
  base:
    write.factor * writeUnits(Math.max(sizeOf(before), write.action.kind === 'check' ? 0 : sizeOf(after))),
  indexes: Object.fromEntries(
    write.definition.indexes.map((index) => [
      index.indexName,
      write.factor * indexUnits(write.definition, index, before, after),
    ]),
  ),
  failed: false,
});

/**
 * A write refused by its condition. DynamoDB still bills it, on the larger of the stored item and the one the write
 * would have made: "If the expression evaluates to false, DynamoDB still consumes write capacity units from the
 * table. The amount of consumed write capacity units depends on the size of the item. This item can be an existing
 * item in the table or a new one you're attempting to create or update. For example, say that an existing item is
 * 300 KB. The new item you're trying to create or update is 310 KB. The write capacity units consumed will be 310 KB
 * for the new item." (Amazon DynamoDB Developer Guide, "DynamoDB read and write operations", Capacity unit
 * consumption for write operations.) The item is unchanged, so no index is written.
 */
const refusedCharge = (
  write: PlannedWrite,
  before: StoredItem | undefined,
  wouldBe: StoredItem | undefined,
): Charge => ({
  logical: write.logical,
  base: write.factor * writeUnits(Math.max(sizeOf(before), sizeOf(wouldBe))),
  indexes: Object.fromEntries(write.definition.indexes.map((index) => [index.indexName, 0])),
  failed: true,
});

// ---- the proxy -------------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const readBody = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

const errorType = (answer: Answer): string => {
  try {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
    return isJson(parsed) && typeof parsed.__type === 'string' ? (parsed.__type.split('#').at(-1) ?? '') : '';
  } catch {
    return '';
  }
};

/** An item as a metered write found or left it: `item` undefined when there is none. */
interface Image {
  readonly item: StoredItem | undefined;
}

/** The value of a metered write, and the images of its items as it left them. */
interface Held<T> {
  readonly value: T;
  readonly left: ReadonlyMap<string, Image>;
}

/**
 * One lock per item: a write holds the locks of its items from the read before it to the read after it. A write that
 * another is waiting on hands it the item as it left it, which is the item as the waiting write will find it: writes
 * queued on one item (a call's events in one batch) then read it once each, not twice.
 */
class ItemLocks {
  private readonly tails = new Map<string, Promise<Image | undefined>>();

  async hold<T>(
    keys: readonly string[],
    work: (handed: ReadonlyMap<string, Image>) => Promise<Held<T>>,
  ): Promise<T> {
    const passes = new Map<string, (image: Image | undefined) => void>();
    const handed = new Map<string, Image>();
    let left: ReadonlyMap<string, Image> = new Map();
    try {
      // Taken in one order, so that two batches sharing items cannot each wait on the other.
      for (const key of [...new Set(keys)].sort()) {
        const { image, pass } = await this.take(key);
        passes.set(key, pass);
        if (image !== undefined) handed.set(key, image);
      }
      const held = await work(handed);
      left = held.left;
      return held.value;
    } finally {
      for (const [key, pass] of passes) pass(left.get(key));
    }
  }

  private async take(
    key: string,
  ): Promise<{ image: Image | undefined; pass: (image: Image | undefined) => void }> {
    const previous = this.tails.get(key);
    let resolve = (_: Image | undefined): void => undefined;
    const mine = new Promise<Image | undefined>((r) => {
      resolve = r;
    });
    this.tails.set(key, mine);
    const image = previous === undefined ? undefined : await previous;
    return {
      image,
      pass: (next) => {
        // No one waiting: the next write reads the item afresh.
        if (this.tails.get(key) === mine) this.tails.delete(key);
        resolve(next);
      },
    };
  }
}

const emptyTotals = (options: CapacityMeterOptions) => ({
  tables: Object.fromEntries(
    Object.values(options.tables).map((logical) => [
      logical,
      {
        base: 0,
        indexes: Object.fromEntries(
          (options.definitions[logical]?.indexes ?? []).map((index) => [index.indexName, 0]),
        ),
      },
    ]),
  ),
  writes: 0,
  failedConditions: 0,
  unmetered: 0,
});

/** Placeholders (`#name`, `:value`) an expression uses. */
const placeholders = (expression: string): Set<string> =>
  new Set(expression.match(/[#:][A-Za-z0-9_]+/g) ?? []);

/** Starts the meter on 127.0.0.1, on a port the system picks, in front of the emulator at `options.upstream`. */
export const startCapacityMeter = async (options: CapacityMeterOptions): Promise<CapacityMeter> => {
  const upstream = new URL(options.upstream);
  const client = new DynamoDBClient(localClientTarget(options.upstream));
  const agent = new Agent({ keepAlive: true });
  const locks = new ItemLocks();
  const scratchTables = new Map<string, Promise<string>>();
  let totals = emptyTotals(options);
  let paused = false;

  const resolve: Resolve = (table) => {
    if (typeof table !== 'string') return undefined;
    const logical = options.tables[table];
    const definition = logical === undefined ? undefined : options.definitions[logical];
    return logical === undefined || definition === undefined
      ? undefined
      : { physical: table, logical, definition };
  };

  const forward = (
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<Answer> =>
    new Promise((resolveAnswer, reject) => {
      const outgoing = httpRequest(
        { agent, host: upstream.hostname, port: upstream.port, method, path, headers },
        (response) => {
          readBody(response).then(
            (answerBody) =>
              resolveAnswer({
                status: response.statusCode ?? 502,
                headers: response.headers,
                body: answerBody,
              }),
            reject,
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const read = async (write: PlannedWrite): Promise<StoredItem | undefined> =>
    (
      await client.send(
        new GetItemCommand({ TableName: write.physical, Key: { ...write.key }, ConsistentRead: true }),
      )
    ).Item;

  /** A table with the same key as the write's, holding nothing but the copies `wouldBeUpdated` works on. */
  const scratchTable = (write: PlannedWrite): Promise<string> => {
    const known = scratchTables.get(write.physical);
    if (known !== undefined) return known;
    const name = `${write.physical}.capacity-meter`;
    const { partitionKey, sortKey } = write.definition;
    const keys = [partitionKey, ...(sortKey ? [sortKey] : [])];
    const created = (async () => {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: name,
            KeySchema: keys.map((key, i) => ({
              AttributeName: key.name,
              KeyType: i === 0 ? 'HASH' : 'RANGE',
            })),
            AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      } catch (error) {
        // Kept from an earlier run on the same data: its items are only ever there for the length of one replay.
        if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
      }
      await waitUntilTableExists({ client, minDelay: 1, maxWaitTime: 30 }, { TableName: name });
      return name;
    })();
    scratchTables.set(write.physical, created);
    return created;
  };

  /**
   * The item a refused update would have made. The emulator evaluates the update expression itself: on a copy of
   * the item before it, in a scratch table, without the condition and with only the placeholders the update uses.
   */
  const wouldBeUpdated = async (
    write: PlannedWrite,
    request: Json,
    before: StoredItem | undefined,
  ): Promise<StoredItem | undefined> => {
    const expression = text(request.UpdateExpression);
    const used = placeholders(expression);
    const names = Object.entries(
      isJson(request.ExpressionAttributeNames) ? request.ExpressionAttributeNames : {},
    )
      .filter(([name]) => used.has(name))
      .map(([name, value]): [string, string] => [name, text(value)]);
    const values = Object.entries(
      isJson(request.ExpressionAttributeValues) ? request.ExpressionAttributeValues : {},
    )
      .filter(([name]) => used.has(name))
      .map(([name, value]): [string, AttributeValue] => [name, fromWire(value)]);
    const scratch = await scratchTable(write);
    const input: UpdateItemCommandInput = {
      TableName: scratch,
      Key: { ...write.key },
      UpdateExpression: expression,
      ...(names.length > 0 ? { ExpressionAttributeNames: Object.fromEntries(names) } : {}),
      ...(values.length > 0 ? { ExpressionAttributeValues: Object.fromEntries(values) } : {}),
      ReturnValues: 'ALL_NEW',
    };
    if (before !== undefined)
      await client.send(new PutItemCommand({ TableName: scratch, Item: { ...before } }));
    try {
      return (await client.send(new UpdateItemCommand(input))).Attributes;
    } finally {
      await client.send(new DeleteItemCommand({ TableName: scratch, Key: { ...write.key } }));
    }
  };

  const wouldBe = async (
    write: PlannedWrite,
    before: StoredItem | undefined,
  ): Promise<StoredItem | undefined> => {
    switch (write.action.kind) {
      case 'put':
        return write.action.item;
      case 'update':
        return wouldBeUpdated(write, write.action.request, before);
      default:
        return undefined;
    }
  };

  /**
   * The item as a write that took place left it. Only an update is read back: a put stores the item it carries, a
   * delete leaves none and a condition check changes nothing. Every read saved is one the emulator, on the thread of
   * the handlers being metered, does not serve while their writes wait on it.
   */
  const after = async (
    write: PlannedWrite,
    before: StoredItem | undefined,
  ): Promise<StoredItem | undefined> => {
    switch (write.action.kind) {
      case 'put':
        return write.action.item;
      case 'delete':
        return undefined;
      case 'check':
        return before;
      default:
        return read(write);
    }
  };

  const unprocessedOf = (answer: Answer): PlannedWrite[] => {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
    return isJson(parsed) ? planBatch(resolve, parsed.UnprocessedItems) : [];
  };

  /** What each write consumed, given the emulator's answer; nothing for a request it refused outright. */
  const charges = async (
    operation: string,
    writes: readonly PlannedWrite[],
    befores: readonly (StoredItem | undefined)[],
    answer: Answer,
  ): Promise<Held<Charge[]>> => {
    // Whatever was not written is as it was before.
    const unchanged = new Map(writes.map((write, i) => [lockKeyOf(write), { item: befores[i] }]));
    const refused = errorType(answer);
    // A canceled transaction is billed all the same, each item's two writes (prepare and commit) included (Developer
    // Guide, "Amazon DynamoDB Transactions: How it works", Capacity management for transactions). dynalite has no
    // transactions: this path is DynamoDB's rule written down, not one the emulator exercises.
    if (refused === 'ConditionalCheckFailedException' || refused === 'TransactionCanceledException')
      return {
        value: await Promise.all(
          writes.map(async (write, i) => refusedCharge(write, befores[i], await wouldBe(write, befores[i]))),
        ),
        left: unchanged,
      };
    // Refused before anything was written (validation, an unknown table): DynamoDB bills nothing for those.
    if (answer.status !== 200) return { value: [], left: unchanged };
    // A batch's unprocessed requests were not written: they come back in a batch of their own, metered then.
    const unprocessed = new Set(operation === 'BatchWriteItem' ? unprocessedOf(answer).map(lockKeyOf) : []);
    const done = writes.flatMap((write, i) =>
      unprocessed.has(lockKeyOf(write)) ? [] : [{ write, before: befores[i] }],
    );
    const left = new Map(unchanged);
    const value = await Promise.all(
      done.map(async ({ write, before }) => {
        const item = await after(write, before);
        left.set(lockKeyOf(write), { item });
        return writtenCharge(write, before, item);
      }),
    );
    return { value, left };
  };

  const add = (charged: readonly Charge[]): void => {
    for (const charge of charged) {
      const table = totals.tables[charge.logical];
      if (table === undefined) continue;
      table.base += charge.base;
      for (const [name, units] of Object.entries(charge.indexes))
        table.indexes[name] = (table.indexes[name] ?? 0) + units;
      totals.writes += 1;
      if (charge.failed) totals.failedConditions += 1;
    }
  };

  /** Forwards a write between the reads of its items before and after, with no other write to them in between. */
  const meteredForward = (
    operation: string,
    writes: readonly PlannedWrite[],
    send: () => Promise<Answer>,
  ): Promise<Answer> =>
    locks.hold(writes.map(lockKeyOf), async (handed) => {
      const befores = await Promise.all(
        writes.map(async (write) => {
          const image = handed.get(lockKeyOf(write));
          return image === undefined ? read(write) : image.item;
        }),
      ).catch(() => undefined);
      const answer = await send();
      if (befores === undefined) {
        totals.unmetered += writes.length;
        return { value: answer, left: new Map() };
      }
      // Added only once every write of the request is sized, so that a failed read leaves no half of it counted.
      const charged = await charges(operation, writes, befores, answer).catch(() => undefined);
      if (charged === undefined) {
        totals.unmetered += writes.length;
        return { value: answer, left: new Map() };
      }
      add(charged.value);
      return { value: answer, left: charged.left };
    });

  const plan = (operation: string, body: Buffer): PlannedWrite[] => {
    if (
      paused ||
      !(operation in SINGLE || operation === 'BatchWriteItem' || operation === 'TransactWriteItems')
    )
      return [];
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      return isJson(parsed) ? planWrites(resolve, operation, parsed) : [];
    } catch {
      // Not a request DynamoDB would take either: it is refused upstream and bills nothing.
      return [];
    }
  };

  const server = createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const operation = (typeof target === 'string' ? target.split('.').at(-1) : undefined) ?? '';
    readBody(req)
      .then((body) => {
        const send = () => forward(req.method ?? 'POST', req.url ?? '/', req.headers, body);
        const writes = plan(operation, body);
        return writes.length === 0 ? send() : meteredForward(operation, writes, send);
      })
      .then(
        (answer) => res.writeHead(answer.status, answer.headers).end(answer.body),
        () => {
          if (res.headersSent) res.destroy();
          else res.writeHead(502).end();
        },
      );
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    totals: () => structuredClone(totals),
    reset: () => {
      totals = emptyTotals(options);
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    stop: async () => {
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      server.closeAllConnections();
      await closed;
      client.destroy();
      agent.destroy();
    },
  };
};
