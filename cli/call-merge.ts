// How a migrated call joins an item persist has written to the new calls table since the deploy: in parts, each
// guarded as its own writer guards it, so that nothing newer is replaced and nothing the new item lacks is lost.
// Pure: the UpdateItem of each part, and whether DynamoDB would apply it to an item as it stands.

import { INSIGHT_KINDS } from '../lambdas/persist/records.js';
import { archiveAttribute, MEDIA_KINDS } from '../lib/definitions/media.js';
import { PAYLOAD_ATTRIBUTES } from '../lib/definitions/payload.js';
import { CALL_SUMMARY_ATTRIBUTES } from '../lib/definitions/tables.js';
import type { Item } from './upgrade.js';

/**
 * The attributes persist sets or removes on a call at every call event (records.ts, toStateWrites): the call's
 * latest state, which one order key orders. Insights and archive records are not among them: they have writers and
 * guards of their own.
 */
export const CALL_STATE_ATTRIBUTES: readonly string[] = [
  ...CALL_SUMMARY_ATTRIBUTES,
  'account_day',
  'account_missed_day',
  'order_key',
  ...PAYLOAD_ATTRIBUTES,
];

/** One part of a call, written alone: its attributes, and the guard under which it may replace what is stored. */
export interface CallPart {
  /** `state`, an insight kind, or an archive attribute: what the part is, for tests and messages. */
  readonly name: string;
  readonly set: Readonly<Record<string, unknown>>;
  readonly remove: readonly string[];
  /** Where the guard looks in the stored item. */
  readonly path: readonly string[];
  /** The order key the stored one must be below, or absent when nothing may be stored there at all. */
  readonly beats?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The parts of a second-layout call: its state, when it has an order key (an item that only ever received insights
 * has none); each insight, ordered by its own key; each archive record, which only a call without one takes.
 * None without an account: no part may be written without the guard that the item is the account's.
 */
export const callParts = (call: Item): CallPart[] => {
  const { account, order_key: orderKey } = call;
  if (typeof account !== 'string') return [];
  const parts: CallPart[] = [];
  if (typeof orderKey === 'string') {
    const set: Record<string, unknown> = {};
    const remove: string[] = [];
    for (const name of CALL_STATE_ATTRIBUTES) {
      if (call[name] !== undefined) set[name] = call[name];
      else if (name !== 'account') remove.push(name);
    }
    parts.push({ name: 'state', set, remove, path: ['order_key'], beats: orderKey });
  }
  for (const kind of INSIGHT_KINDS) {
    const insight = call[kind];
    if (!isRecord(insight) || typeof insight.order_key !== 'string') continue;
    parts.push({
      name: kind,
      set: { account, [kind]: insight },
      remove: [],
      path: [kind, 'order_key'],
      beats: insight.order_key,
    });
  }
  for (const kind of MEDIA_KINDS) {
    const attribute = archiveAttribute(kind);
    if (call[attribute] === undefined) continue;
    parts.push({ name: attribute, set: { [attribute]: call[attribute] }, remove: [], path: [attribute] });
  }
  return parts;
};

/** The UpdateItem expressions of a part: persist's guard, that the item is absent or the account's, then the part's. */
export const partUpdate = (part: CallPart, account: string) => {
  const names: Record<string, string> = { '#id': 'id', '#account': 'account' };
  const values: Record<string, unknown> = { ':account': account };
  const sets = Object.entries(part.set).map(([attribute, value], i) => {
    names[`#s${i}`] = attribute;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removes = part.remove.map((attribute, i) => {
    names[`#r${i}`] = attribute;
    return `#r${i}`;
  });
  const path = part.path
    .map((segment, i) => {
      names[`#g${i}`] = segment;
      return `#g${i}`;
    })
    .join('.');
  if (part.beats !== undefined) values[':order'] = part.beats;
  const guard =
    part.beats === undefined
      ? `attribute_not_exists(${path})`
      : `(attribute_not_exists(${path}) OR ${path} < :order)`;
  return {
    UpdateExpression: [`SET ${sets.join(', ')}`, removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '']
      .join(' ')
      .trim(),
    ConditionExpression: `(attribute_not_exists(#id) OR #account = :account) AND ${guard}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

const at = (item: Item, path: readonly string[]): unknown =>
  path.reduce<unknown>((value, segment) => (isRecord(value) ? value[segment] : undefined), item);

/**
 * Whether DynamoDB would apply the part to the item as stored (undefined: absent): what a dry run predicts. Order
 * keys are ASCII, where DynamoDB's byte order and JavaScript's code-unit order agree; a stored key that is not a
 * string compares false, as DynamoDB compares values of different types.
 */
export const partApplies = (part: CallPart, account: string, stored: Item | undefined): boolean => {
  if (stored === undefined) return true;
  if (stored.account !== account) return false;
  const current = at(stored, part.path);
  if (current === undefined) return true;
  return part.beats !== undefined && typeof current === 'string' && current < part.beats;
};
