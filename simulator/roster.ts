// The company's roster as the Public API lists it: `GET /v1/users`, `GET /v1/numbers` and `GET /v1/contacts`, paged as Aircall pages.

import { BadRequestError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { checkResultWindow, listPage, orderParam, pagingOf } from './paging.js';
import { hashString } from './random.js';
import type { TrafficGenerator } from './traffic.js';

export interface RosterOptions {
  /** The roster of each company, by account. */
  readonly generatorOf: (account: string) => TrafficGenerator;
  readonly seed: number;
  /** UNIX seconds the users and numbers were created before. */
  readonly epoch: number;
}

const YEAR_SECONDS = 365 * 86_400;

const numeric = (value: JsonValue | undefined): number => (typeof value === 'number' ? value : Number(value));

const byId = (a: JsonObject, b: JsonObject): number => numeric(a.id) - numeric(b.id);

/** One page of `items` in `order`, under `collection`. */
const page = (collection: string, items: JsonObject[], url: URL, order: 'asc' | 'desc'): JsonObject => {
  const paging = pagingOf(url);
  checkResultWindow(paging);
  if (order === 'desc') items.reverse();
  const slice = items.slice(paging.offset, paging.offset + paging.perPage);
  return listPage(collection, slice, items.length, url, paging);
};

/** The listings by collection name, for the API's router. */
export const createRosterLists = (
  options: RosterOptions,
): ReadonlyMap<string, (account: string, url: URL) => JsonObject> => {
  /**
   * When a user or number was created: within the year before `epoch`, fixed by the seed and the id. Drawn apart
   * from the traffic's stream so that listing the roster changes no generated payload.
   */
  const createdAt = (id: JsonValue | undefined): string => {
    const offset = hashString(`${options.seed}:${String(id)}`) % YEAR_SECONDS;
    return new Date((options.epoch - YEAR_SECONDS + offset) * 1000).toISOString();
  };

  // Users are the agents as they are now: `available` follows the status events generated so far.
  const users = (account: string, url: URL): JsonObject => {
    const listed = options
      .generatorOf(account)
      .agents.map((user) => ({ ...structuredClone(user), created_at: createdAt(user.id) }));
    return page('users', listed.sort(byId), url, orderParam(url));
  };

  const numbers = (account: string, url: URL): JsonObject => {
    const listed = options
      .generatorOf(account)
      .numbers.map((number) => ({ ...structuredClone(number), created_at: createdAt(number.id) }));
    return page('numbers', listed.sort(byId), url, orderParam(url));
  };

  /** Only shared contacts are listed, as Aircall lists them; `order_by` is `created_at` (default) or `updated_at`. */
  const contacts = (account: string, url: URL): JsonObject => {
    const orderBy = url.searchParams.get('order_by') ?? 'created_at';
    if (orderBy !== 'created_at' && orderBy !== 'updated_at') {
      throw new BadRequestError('order_by must be created_at or updated_at');
    }
    const listed = options
      .generatorOf(account)
      .contacts.filter((contact) => contact.is_shared === true)
      .map((contact) => structuredClone(contact))
      .sort((a, b) => numeric(a[orderBy]) - numeric(b[orderBy]) || byId(a, b));
    return page('contacts', listed, url, orderParam(url));
  };

  return new Map([
    ['users', users],
    ['numbers', numbers],
    ['contacts', contacts],
  ]);
};
