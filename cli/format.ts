// Turns query results into text: aligned tables, key/value blocks, JSON for scripts, and the progress bar.

import { exactJsonInteger } from '../lib/definitions/json.js';
import type { MediaKind } from '../lib/definitions/media.js';
import { mediaFile } from './queries.js';
import { isoSeconds } from './time.js';

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Numbers read best right-aligned. */
  readonly align?: 'left' | 'right';
}

// A terminal obeys escape sequences in what it prints: a value from a table (a contact's name, a tag) could clear
// the screen, retitle the window, or draw a hyperlink that is not what it says. Sequences go whole, so their
// parameters do not survive as text: CSI, OSC (to BEL or ST), DCS, SOS, PM and APC (to ST), and two-byte escapes,
// in their 7-bit (ESC ...) and 8-bit (C1) forms.
const ESCAPE_SEQUENCES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|[ -/]*[0-~]?)|\u009b[0-?]*[ -/]*[@-~]?|[\u0090\u0098\u009d-\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
// Line breaks and tabs would break a table's rows and columns: each becomes a space.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
// Every other C0 control, DEL and C1 control, and the bidirectional controls that make text display out of order.
const CONTROLS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The text with nothing a terminal would act on: every table, field and summary line passes through it. */
export const printable = (text: string): string =>
  text.replace(ESCAPE_SEQUENCES, '').replace(BREAKS, ' ').replace(CONTROLS, '');

/** Origin and path only: user-info or a query string in a URL could hold a secret. Throws if it is no URL. */
export const safeUrl = (url: string): string => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

// Up to a space or a quote, and not the punctuation that ends a sentence after it.
const URLS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*[^\s"'<>.,;:!?)]/gi;

/**
 * The text with every URL in it that carries user-info, a query or a fragment cut to its origin and path, e.g. an
 * error that quotes the URL it was given; other URLs stay as written.
 */
export const redactUrls = (text: string): string =>
  text.replace(URLS, (url) => {
    if (!URL.canParse(url)) return url.replace(/\/\/[^/@]*@/, '//');
    const { username, password, search, hash } = new URL(url);
    return username === '' && password === '' && search === '' && hash === '' ? url : safeUrl(url);
  });

/** What an empty cell shows, so that columns never collapse and a missing value is visible. */
export const EMPTY = '-';

/** One cell's text: scalars as they are, absent values as a dash, anything else as compact JSON. */
export const cell = (value: unknown): string => {
  if (value === undefined || value === null || value === '') return EMPTY;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value, jsonReplacer);
};

/** An epoch-seconds attribute as ISO 8601, or a dash. */
export const timeCell = (value: unknown): string => (typeof value === 'number' ? isoSeconds(value) : EMPTY);

/** An epoch-milliseconds attribute (`received_at`) as ISO 8601 with its milliseconds, or a dash. */
export const millisCell = (value: unknown): string =>
  typeof value === 'number' ? new Date(value).toISOString() : EMPTY;

// Terminal columns a string takes; code points rather than UTF-16 units so accented names align.
const width = (text: string): number => [...text].length;

const pad = (text: string, size: number, align: 'left' | 'right'): string => {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return align === 'right' ? fill + text : text + fill;
};

/** Rows under a header, each column as wide as its widest cell, two spaces apart, no trailing blanks. */
export const formatTable = <T>(columns: readonly Column<T>[], rows: readonly T[]): string => {
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row)).replace(/\s+/g, ' ')));
  const headers = columns.map((c) => printable(c.header));
  const widths = headers.map((header, i) => Math.max(width(header), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (texts: readonly string[]): string =>
    texts
      .map((text, i) => pad(text, widths[i] ?? 0, columns[i]?.align ?? 'left'))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
};

/** Label/value lines with the values aligned: one record read top to bottom. */
export const formatFields = (fields: ReadonlyArray<readonly [string, string]>): string => {
  const shown = fields.map(([label, value]) => [printable(label), printable(value)] as const);
  const labelWidth = Math.max(0, ...shown.map(([label]) => width(label)));
  return `${shown.map(([label, value]) => `${pad(label, labelWidth, 'left')}  ${value}`.trimEnd()).join('\n')}\n`;
};

/** JSON.stringify cannot show sets, bytes or bigints; DynamoDB returns all three (a bigint for an id beyond 2^53). */
export const jsonReplacer = (_key: string, value: unknown): unknown => {
  if (typeof value === 'bigint') return exactJsonInteger(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
};

// JSON.stringify escapes C0 controls but writes DEL, C1 and the bidirectional controls as they are.
const UNESCAPED_CONTROLS = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * The whole stdout of a `--json` run: one JSON document and a newline, with every control character escaped
 * (`\u009b`), so the document means the same and a terminal showing it acts on none.
 */
export const formatJson = (value: unknown): string =>
  `${JSON.stringify(value, jsonReplacer, 2).replace(
    UNESCAPED_CONTROLS,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )}\n`;

/** `[#########-----------]  45/100` */
export const progressBar = (done: number, total: number, barWidth = 30): string => {
  const ratio = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * barWidth);
  const count = String(total).length;
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${String(done).padStart(count)}/${total}`;
};

type Row = Record<string, unknown>;

/** A nested attribute, e.g. the user's name inside the call's `data`. */
const at = (item: unknown, ...path: string[]): unknown => {
  let value = item;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Row)[key];
  }
  return value;
};

/** Where a call's recording or voicemail is: its archived copy, only Aircall's expiring link, or nothing. */
const mediaCell = (call: Row, kind: MediaKind): string => {
  const file = mediaFile(call, kind);
  switch (file.state) {
    case 'archived': {
      const { key, bytes, archived_at } = file.archive;
      return `archived: ${key}, ${bytes} bytes, ${timeCell(archived_at)}`;
    }
    case 'link-only':
      return 'link only, not archived';
    case 'unreadable':
      return 'archive record unreadable (see --json)';
    case 'absent':
      return EMPTY;
  }
};

const tagNames = (tags: unknown): string =>
  Array.isArray(tags) && tags.length > 0 ? tags.map((t) => cell(at(t, 'name') ?? t)).join(', ') : EMPTY;

const withName = (id: unknown, name: unknown): string =>
  id === undefined ? EMPTY : name === undefined ? cell(id) : `${cell(id)} (${cell(name)})`;

const CALL_COLUMNS: readonly Column<Row>[] = [
  { header: 'id', value: (c) => cell(c.id), align: 'right' },
  { header: 'started_at', value: (c) => timeCell(c.started_at) },
  { header: 'direction', value: (c) => cell(c.direction) },
  { header: 'status', value: (c) => cell(c.status) },
  { header: 'duration', value: (c) => cell(c.duration), align: 'right' },
  { header: 'user_id', value: (c) => cell(c.user_id), align: 'right' },
  { header: 'number_id', value: (c) => cell(c.number_id), align: 'right' },
  { header: 'raw_digits', value: (c) => cell(c.raw_digits) },
  { header: 'missed_call_reason', value: (c) => cell(c.missed_call_reason) },
  { header: 'last_event', value: (c) => cell(c.last_event) },
];

export const formatCallList = (calls: readonly Row[]): string => formatTable(CALL_COLUMNS, calls);

/** One call read top to bottom; the URLs and the full payload are left to --json. */
export const formatCall = (call: Row): string =>
  formatFields([
    ['id', cell(call.id)],
    ['account', cell(call.account)],
    ['direction', cell(call.direction)],
    ['status', cell(call.status)],
    ['started_at', timeCell(call.started_at)],
    ['answered_at', timeCell(call.answered_at)],
    ['ended_at', timeCell(call.ended_at)],
    ['duration', call.duration === undefined ? EMPTY : `${cell(call.duration)} s`],
    ['missed_call_reason', cell(call.missed_call_reason)],
    ['user', withName(call.user_id, at(call, 'data', 'user', 'name'))],
    ['number', withName(call.number_id, at(call, 'data', 'number', 'name'))],
    ['contact_id', cell(call.contact_id)],
    ['raw_digits', cell(call.raw_digits)],
    ['tags', tagNames(call.tags)],
    ['recording', mediaCell(call, 'recording')],
    ['voicemail', mediaCell(call, 'voicemail')],
    ['archived', cell(call.archived)],
    ['last_event', cell(call.last_event)],
    ['last_event_at', timeCell(call.last_event_at)],
  ]);

const HISTORY_COLUMNS: readonly Column<Row>[] = [
  { header: 'time', value: (e) => timeCell(e.timestamp) },
  { header: 'event', value: (e) => cell(e.event) },
  { header: 'received_at', value: (e) => millisCell(e.received_at) },
  { header: 'resource', value: (e) => cell(e.resource) },
  // Rows read from the Public API (backfill, gap repair) say so; every other row came from a webhook.
  { header: 'source', value: (e) => (e.source === 'api' ? 'api' : 'webhook') },
];

export const formatHistory = (events: readonly Row[]): string => formatTable(HISTORY_COLUMNS, events);

const USER_COLUMNS: readonly Column<Row>[] = [
  { header: 'id', value: (u) => cell(u.id), align: 'right' },
  { header: 'name', value: (u) => cell(u.name) },
  { header: 'email', value: (u) => cell(u.email) },
  { header: 'available', value: (u) => cell(u.available) },
  { header: 'availability_status', value: (u) => cell(u.availability_status) },
  { header: 'last_event', value: (u) => cell(u.last_event) },
  { header: 'last_event_at', value: (u) => timeCell(u.last_event_at) },
];

export const formatUsers = (users: readonly Row[]): string => formatTable(USER_COLUMNS, users);

const NUMBER_COLUMNS: readonly Column<Row>[] = [
  { header: 'id', value: (n) => cell(n.id), align: 'right' },
  { header: 'name', value: (n) => cell(n.name) },
  { header: 'digits', value: (n) => cell(n.digits) },
  { header: 'country', value: (n) => cell(n.country) },
  { header: 'open', value: (n) => cell(n.open) },
  { header: 'availability_status', value: (n) => cell(n.availability_status) },
];

export const formatNumbers = (numbers: readonly Row[]): string => formatTable(NUMBER_COLUMNS, numbers);

/** `200: 10` per status, lowest first, then each kind of failed request. */
export const formatSendSummary = (summary: {
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
}): string => {
  const lines = [
    ...Object.entries(summary.statuses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, count]) => `${status}: ${count}`),
    ...Object.entries(summary.errors).map(([message, count]) => `error: ${printable(message)}: ${count}`),
  ];
  return `${lines.join('\n')}\n`;
};
