// A generated event, its stable key and its content digest: what delivery sends and what tests check was stored.

import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from './json.js';

export interface GeneratedEvent {
  /** `<resource>#<data.id>#<timestamp>#<event>`: unique among the events one simulator generates. */
  readonly key: string;
  readonly account: string;
  readonly resource: string;
  readonly event: string;
  /** UNIX seconds, as Aircall sends it. */
  readonly timestamp: number;
  readonly data: JsonObject;
  /**
   * SHA-256 of canonical JSON `[account, resource, event, timestamp, data]` (keys sorted, token left out): the
   * digest the stack stores, when it registers the webhook under the same account name.
   */
  readonly digest: string;
}

const canonical = (value: JsonValue): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

export const eventDigest = (
  account: string,
  resource: string,
  event: string,
  timestamp: number,
  data: JsonObject,
): string =>
  createHash('sha256')
    .update(canonical([account, resource, event, timestamp, data]))
    .digest('hex');

export const eventKey = (resource: string, event: string, timestamp: number, data: JsonObject): string =>
  `${resource}#${String(data.id ?? '')}#${timestamp}#${event}`;

export const makeEvent = (
  account: string,
  resource: string,
  event: string,
  timestamp: number,
  data: JsonObject,
): GeneratedEvent => ({
  key: eventKey(resource, event, timestamp, data),
  account,
  resource,
  event,
  timestamp,
  data,
  digest: eventDigest(account, resource, event, timestamp, data),
});

/** The body Aircall posts: the same five fields, with the receiving webhook's token. */
export const deliveryBody = (event: GeneratedEvent, token: string): string =>
  JSON.stringify({
    resource: event.resource,
    event: event.event,
    timestamp: event.timestamp,
    token,
    data: event.data,
  });
