// Aircall's list paging, shared by every list endpoint: page and per_page, the meta block, and the 10,000-result cap.

import { BadRequestError, ResultWindowError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 50;
/** Aircall serves no result past the 10,000th of a listing, however it is paged. */
export const MAX_LISTED_RESULTS = 10_000;

export interface Paging {
  /** 1-based. */
  readonly page: number;
  readonly perPage: number;
  /** Index of the page's first result in the whole listing. */
  readonly offset: number;
}

/** A positive integer query parameter, or the fallback when it is absent or not one. */
const positiveInt = (raw: string | null, fallback: number): number => {
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  const value = Number(raw);
  return value >= 1 ? value : fallback;
};

/**
 * `page` and `per_page` of a list request. A `per_page` over 50 is clamped to 50 rather than refused: the
 * webhook list always did so, and a client that asks for more still reads every result, 50 at a time.
 */
export const pagingOf = (url: URL): Paging => {
  const perPage = Math.min(positiveInt(url.searchParams.get('per_page'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const page = positiveInt(url.searchParams.get('page'), 1);
  return { page, perPage, offset: (page - 1) * perPage };
};

/**
 * Refuses a page that starts at or past the 10,000th result, as Aircall does (page 201 at `per_page=50`), even
 * when the listing has fewer results: the cap is on the page asked for, not on what it would hold.
 */
export const checkResultWindow = (paging: Paging): void => {
  if (paging.offset >= MAX_LISTED_RESULTS) {
    throw new ResultWindowError(
      `page ${paging.page} at per_page ${paging.perPage} starts past result 10,000`,
    );
  }
};

/** A UNIX-seconds query parameter, or undefined when absent; anything but an integer is a 400. */
export const unixSecondsParam = (url: URL, name: string): number | undefined => {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new BadRequestError(`${name} must be a UNIX time in seconds`);
  return Number(raw);
};

/** `order`: `asc` unless `desc` is asked for; anything else is a 400. */
export const orderParam = (url: URL): 'asc' | 'desc' => {
  const raw = url.searchParams.get('order');
  if (raw === null || raw === '' || raw === 'asc') return 'asc';
  if (raw === 'desc') return 'desc';
  throw new BadRequestError('order must be asc or desc');
};

/**
 * One page of a listing under `collection`, with Aircall's `meta`. The page links repeat every query parameter
 * of the request (its filters) with the page changed, on the origin the request reached. Past the cap the next
 * link is still given, as Aircall gives it: following it is what earns the 400.
 */
export const listPage = (
  collection: string,
  items: readonly JsonValue[],
  total: number,
  url: URL,
  paging: Paging,
): JsonObject => {
  const link = (target: number): string => {
    const query = new URLSearchParams(url.searchParams);
    query.delete('page');
    query.delete('per_page');
    const rest = query.toString();
    return `${url.origin}${url.pathname}?page=${target}&per_page=${paging.perPage}${rest === '' ? '' : `&${rest}`}`;
  };
  return {
    [collection]: [...items],
    meta: {
      count: items.length,
      total,
      current_page: paging.page,
      per_page: paging.perPage,
      next_page_link: paging.offset + paging.perPage < total ? link(paging.page + 1) : null,
      previous_page_link: paging.page > 1 ? link(paging.page - 1) : null,
    },
  };
};
