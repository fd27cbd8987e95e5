// DynamoDB write units by its published sizing rules, from items as DynamoDB stores them (AttributeValue form):
// the embedded DynamoDB does not report consumed capacity reliably, so the bench computes it.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { IndexDefinition, TableDefinition } from '../lib/definitions/tables.js';

export type StoredItem = Readonly<Record<string, AttributeValue>>;

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** A number takes 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1. */
export const numberSize = (text: string): number => {
  const mantissa = (text.replace(/^[-+]/, '').split(/[eE]/)[0] ?? '').replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(significant.length / 2) + 1;
};

/** The bytes a value takes: maps and lists 3 bytes plus 1 per element, null and booleans 1. */
export const valueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, item) => sum + 1 + valueSize(item), 0);
  if (value.M !== undefined)
    return (
      3 + Object.entries(value.M).reduce((sum, [name, item]) => sum + 1 + utf8(name) + valueSize(item), 0)
    );
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(', ')}`);
};

/** An item's size: each attribute's name plus its value. */
export const itemSize = (item: StoredItem): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);

/** One write unit per 1 KB of the item written (the larger of before and after), at least one. */
export const writeUnits = (sizeBytes: number): number => Math.max(1, Math.ceil(sizeBytes / 1024));

/** The index entry of an item: undefined when the item lacks the index keys (a sparse index holds nothing). */
export const indexEntry = (
  item: StoredItem,
  table: TableDefinition,
  index: IndexDefinition,
): StoredItem | undefined => {
  const indexKeys = [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])];
  if (indexKeys.some((name) => item[name] === undefined)) return undefined;
  const tableKeys = [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])];
  const projected =
    index.projection.type === 'ALL'
      ? Object.keys(item)
      : [
          ...tableKeys,
          ...indexKeys,
          ...(index.projection.type === 'INCLUDE' ? index.projection.nonKeyAttributes : []),
        ];
  const entry: Record<string, AttributeValue> = {};
  for (const name of projected) {
    const value = item[name];
    if (value !== undefined) entry[name] = value;
  }
  return entry;
};
