// Events made from objects read through Aircall's Public API rather than delivered by a webhook: their names, and
// the time each one is ordered by, which reconcile writes and persist orders and deduplicates by.

import { ExactInteger, type JsonObject, type JsonValue } from './json.js';

/** The resources reconcile reads, each from its list endpoint. */
export const FETCHED_RESOURCES = ['call', 'user', 'number', 'contact'] as const;
export type FetchedResource = (typeof FETCHED_RESOURCES)[number];

const SUFFIX = '.fetched';

/** `call.fetched`, `user.fetched`, ...: the event an object read from the API is stored as. */
export const fetchedEventName = (resource: FetchedResource): `${FetchedResource}.fetched` =>
  `${resource}${SUFFIX}`;

/** Whether an event was made from the API rather than delivered by a webhook. */
export const isFetchedEvent = (event: string): boolean => event.endsWith(SUFFIX);

/** The value the event log's `source` attribute holds on a fetched event's row; webhook rows carry none. */
export const FETCHED_SOURCE = 'api';

const seconds = (value: JsonValue | undefined): number | undefined => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (value instanceof ExactInteger) return undefined;
  if (typeof value === 'string' && value !== '') {
    if (/^\d+$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : Math.floor(parsed / 1000);
  }
  return undefined;
};

/**
 * The time a fetched object is ordered by, taken from the object itself so that reading it again gives the same
 * event: a call's last moment (`ended_at`, else `answered_at`, else `started_at`), a contact's `updated_at`, and for
 * users and numbers, whose API objects carry no time of change, their `created_at`. A webhook event describes the
 * same moment later than these (Aircall builds `call.ended` about 30 s after `ended_at`), so a fetched object never
 * outranks what a webhook brought; it fills in what is missing, and completes a call left at `call.hungup` by its
 * later stage.
 */
export const fetchedTimestamp = (resource: FetchedResource, data: JsonObject): number => {
  const first = (...names: string[]): number =>
    names.map((name) => seconds(data[name])).find((value) => value !== undefined) ?? 0;
  switch (resource) {
    case 'call':
      return first('ended_at', 'answered_at', 'started_at');
    case 'contact':
      return first('updated_at', 'created_at');
    case 'user':
    case 'number':
      return first('created_at');
  }
};

// The presigned links Aircall signs anew at every read: the same file, a different query string each time.
const SIGNED_LINKS = ['recording', 'voicemail', 'recording_short_url', 'voicemail_short_url'] as const;

/**
 * The object as its digest sees it: signed links without their query string, so that the same call read twice is
 * the same event. The stored data keeps the links whole.
 */
export const stableFetchedData = (data: JsonObject): JsonObject => {
  const stable: JsonObject = { ...data };
  for (const name of SIGNED_LINKS) {
    const link = data[name];
    if (typeof link === 'string' && URL.canParse(link)) {
      const url = new URL(link);
      stable[name] = `${url.origin}${url.pathname}`;
    }
  }
  return stable;
};
