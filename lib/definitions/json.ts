// JSON values as parsed from a webhook body: the shape the envelope, the payload codec and the state rules share.

import { NumberValue } from '@aws-sdk/lib-dynamodb';

/**
 * An integer beyond 2^53 as its JSON digits: Aircall ids are 64-bit, and a JavaScript number would round them.
 * As a NumberValue the DynamoDB document client stores the digits exactly, and JSON.stringify writes them back
 * unchanged, so the event log, the payload codec and the digest all see the number that was sent.
 */
export class ExactInteger extends NumberValue {
  toJSON(): unknown {
    return rawJSON(this.value);
  }
}

/**
 * How every writer marshals items with the document client: absent values left out, and numbers beyond 2^53 that
 * JSON.parse has already rounded written as they are (refusing them would lose the whole event, not one digit).
 */
export const DOCUMENT_MARSHALL_OPTIONS = {
  removeUndefinedValues: true,
  allowImpreciseNumbers: true,
} as const;

export type JsonValue = string | number | boolean | null | ExactInteger | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ExactInteger);

// Node.js 24 has JSON.parse source text access and JSON.rawJSON; TypeScript's ES2023 library declares neither.
type SourceReviver = (key: string, value: unknown, context: { readonly source?: string }) => unknown;
const parseWithSource = JSON.parse as (text: string, reviver: SourceReviver) => unknown;
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** What JSON.stringify writes as the integer's digits, unrounded: a replacer's answer for a bigint. */
export const exactJsonInteger = (value: bigint | ExactInteger): unknown => rawJSON(value.toString());

const INTEGER_LITERAL = /^-?\d+$/;
// 2^53 has 16 digits, and a JSON number follows `:`, `[` or `,`: a text without such a run of 16 digits has no
// integer a number would round, and is parsed at JSON.parse's own speed.
const LONG_NUMBER = /[:,[][ \t\n\r]*-?[0-9]{16}/;

const keepExactIntegers: SourceReviver = (_key, value, { source }) =>
  typeof value === 'number' &&
  !Number.isSafeInteger(value) &&
  source !== undefined &&
  INTEGER_LITERAL.test(source)
    ? new ExactInteger(source)
    : value;

/**
 * JSON.parse, except that an integer literal beyond 2^53 becomes an {@link ExactInteger}. Every other number is a
 * JavaScript number, as JSON.parse makes it. Throws what JSON.parse throws (a RangeError for nesting too deep to
 * revive, which only a text holding a number of 16 digits or more can reach).
 */
export const parseJson = (text: string): unknown =>
  LONG_NUMBER.test(text) ? parseWithSource(text, keepExactIntegers) : JSON.parse(text);
