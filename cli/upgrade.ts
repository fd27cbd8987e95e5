// The item upgrades `migrate` applies, first table layout to second: a calls item, an events row, and the receipts
// that list the rows copied. Pure: the command reads and writes, this only reshapes.

import { INSIGHT_KINDS } from '../lambdas/persist/records.js';
import {
  ExactInteger,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseJson,
} from '../lib/definitions/json.js';
import { MEDIA_KINDS, unsignedLink } from '../lib/definitions/media.js';
import { decodePayload, encodePayload, PAYLOAD_ATTRIBUTES } from '../lib/definitions/payload.js';
import { type Receipt, type ReceivedEvent, receiptsOf } from '../lib/definitions/receipts.js';
import { accountDay } from '../lib/definitions/tables.js';

export type Item = Record<string, unknown>;

/** An item that cannot be upgraded, e.g. a payload that is not JSON: the command counts it failed and goes on. */
export class UpgradeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeError';
  }
}

const INTEGER_LITERAL = /^-?\d+$/;

/**
 * A number as DynamoDB returns its digits, made what `parseJson` makes of the same digits in a webhook body: an
 * integer beyond 2^53 an {@link ExactInteger}, anything else a JavaScript number. Given to the document client as
 * `wrapNumbers`, so that a 64-bit Aircall id read from an old item is compressed with every digit it was stored with.
 */
export const exactNumber = (digits: string): number | ExactInteger => {
  const value = Number(digits);
  return INTEGER_LITERAL.test(digits) && !Number.isSafeInteger(value) ? new ExactInteger(digits) : value;
};

// Maps only: a document client returns binary attributes as Uint8Array and sets as Set.
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

const isJson = (value: unknown): value is JsonValue => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (value instanceof ExactInteger) return true;
  if (Array.isArray(value)) return value.every(isJson);
  return isPlainObject(value) && Object.values(value).every(isJson);
};

const without = (item: Item, names: readonly string[]): Item =>
  Object.fromEntries(Object.entries(item).filter(([name]) => !names.includes(name)));

/** The object a first-layout payload holds: a `data` map, or gzipped JSON under `data_gz`; undefined for neither. */
const legacyPayload = (item: Item): JsonObject | undefined => {
  const { data, data_gz: gzipped } = item;
  try {
    // parseJson rather than JSON.parse: an id beyond 2^53 in the gzipped text keeps its digits.
    if (gzipped instanceof Uint8Array) return decodePayload({ data_gz: gzipped }, parseJson);
  } catch (error) {
    throw new UpgradeError('data_gz does not hold gzipped JSON', { cause: error });
  }
  if (data === undefined) return undefined;
  if (!isJsonObject(data) || !isJson(data)) throw new UpgradeError('data is not a JSON object');
  return data;
};

/** The item with its payload under `data_z`, the one form the second layout writes; one already there is kept. */
const compressed = (item: Item): Item => {
  if (item.data_z instanceof Uint8Array) return without(item, ['data', 'data_gz']);
  const payload = legacyPayload(item);
  const rest = without(item, PAYLOAD_ATTRIBUTES);
  return payload === undefined ? rest : { ...rest, ...encodePayload(payload) };
};

/**
 * A first-layout calls item as the second layout stores it: the payload compressed (on the call and in each insight
 * kept inline), `started_day` and `missed_day` become `account_day` and `account_missed_day`, and the recording and
 * voicemail attributes lose their query. Everything else is kept as it is.
 */
export const upgradeCall = (item: Item): Item => {
  const { started_day: startedDay, missed_day: missedDay, ...rest } = item;
  const call = compressed(rest);
  const { account } = item;
  if (typeof account === 'string' && typeof startedDay === 'string')
    call.account_day = accountDay(account, startedDay);
  if (typeof account === 'string' && typeof missedDay === 'string')
    call.account_missed_day = accountDay(account, missedDay);
  for (const kind of MEDIA_KINDS) if (call[kind] !== undefined) call[kind] = unsignedLink(call[kind]);
  for (const kind of INSIGHT_KINDS) {
    const insight = call[kind];
    if (isPlainObject(insight)) call[kind] = compressed(insight);
  }
  return call;
};

// What the first layout's event rows repeated of their keys, or kept for the index the second layout replaced.
const DROPPED_EVENT_ATTRIBUTES = ['received_day', 'resource_id', 'digest'] as const;

/** A first-layout events row as the second layout stores it: the payload compressed, what the keys say dropped. */
export const upgradeEventRow = (row: Item): Item => compressed(without(row, DROPPED_EVENT_ATTRIBUTES));

/** True when the row's `expires_at` (epoch seconds) has passed: DynamoDB would delete it, so it is not copied. */
export const isExpired = (row: Item, nowSeconds: number): boolean =>
  typeof row.expires_at === 'number' && row.expires_at < nowSeconds;

/**
 * What a receipt lists of an events row: its account, keys and receive time. Undefined for a row lacking one of
 * them, which no listing of the first layout found either (its index was keyed by the receive time).
 */
export const receivedEvent = (row: Item): ReceivedEvent | undefined => {
  const { account, pk, sk, received_at: receivedAt } = row;
  if (typeof account !== 'string' || typeof pk !== 'string' || typeof sk !== 'string') return undefined;
  if (typeof receivedAt !== 'number') return undefined;
  return { account, pk, sk, receivedAt };
};

/** An events row copied, as its receipt needs it: what it lists, and when the row expires (absent: never). */
export interface CopiedRow {
  readonly received: ReceivedEvent;
  readonly expiresAt: number | undefined;
}

const rowKey = (pk: string, sk: string): string => `${pk}\n${sk}`;

/**
 * The receipts listing the rows, as persist groups them (account, day and minute of receipt). Each expires with the
 * latest row it lists, and never when one of them never does: the rows of one minute may carry expiries of
 * different retention settings, so the expiry is read from the rows rather than from a retention.
 */
export const receiptsOfRows = (rows: readonly CopiedRow[]): Receipt[] => {
  const expiries = new Map(rows.map((row) => [rowKey(row.received.pk, row.received.sk), row.expiresAt]));
  return receiptsOf(
    rows.map((row) => row.received),
    0,
  ).map((receipt) => {
    let latest = 0;
    for (const [pk, sk] of receipt.events) {
      const expiresAt = expiries.get(rowKey(pk, sk));
      if (expiresAt === undefined) return receipt;
      latest = Math.max(latest, expiresAt);
    }
    return { ...receipt, expires_at: latest };
  });
};
