// The truth of every call, per company: its latest data whether or not it was delivered, read by `GET /v1/calls/:id` and `GET /v1/calls`.

import type { GeneratedEvent } from './envelope.js';
import type { JsonObject, JsonValue } from './json.js';
import { MEDIA_KINDS, type MediaFile, type MediaLinks } from './media.js';
import { checkResultWindow, listPage, orderParam, pagingOf, unixSecondsParam } from './paging.js';

interface Latest {
  readonly timestamp: number;
  readonly data: JsonObject;
}

/** What the listing sorts on, kept apart from the data so a page is found without reading every call. */
interface SortKey {
  readonly startedAt: number;
  readonly id: number;
  readonly callId: string;
}

interface CompanyCalls {
  readonly byId: Map<string, Latest>;
  /** By `started_at` then id; rebuilt on the first listing after a call is added. */
  sorted: SortKey[] | undefined;
}

const numeric = (value: JsonValue | undefined): number => (typeof value === 'number' ? value : Number(value));

const compare = (a: SortKey, b: SortKey): number => a.startedAt - b.startedAt || a.id - b.id;

/** Index of the first key whose `started_at` is at least `startedAt` (or, with `after`, above it). */
const boundary = (sorted: readonly SortKey[], startedAt: number, after: boolean): number => {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle]?.startedAt ?? 0;
    if (at < startedAt || (after && at === startedAt)) low = middle + 1;
    else high = middle;
  }
  return low;
};

export class CallRecords {
  private readonly companies = new Map<string, CompanyCalls>();

  constructor(private readonly links: MediaLinks) {}

  /** Keeps a call event's data unless a later event of the call is already kept. */
  record(event: GeneratedEvent): void {
    if (event.resource !== 'call') return;
    this.keep(event.account, event.timestamp, event.data);
  }

  /** Keeps a call's data as of `timestamp` (UNIX seconds), unless the call is already known at a later time. */
  keep(account: string, timestamp: number, data: JsonObject): void {
    const calls = this.of(account);
    const callId = String(data.id);
    const kept = calls.byId.get(callId);
    // Events of one lifecycle that share a second come in lifecycle order, so the later one wins a tie.
    if (kept !== undefined && timestamp < kept.timestamp) return;
    calls.byId.set(callId, { timestamp, data });
    if (kept === undefined || numeric(kept.data.started_at) !== numeric(data.started_at))
      calls.sorted = undefined;
  }

  /** The call as the API shows it, its links signed at `signedAt` (UNIX seconds); undefined for an unknown id. */
  get(account: string, callId: string, signedAt: number): JsonObject | undefined {
    const kept = this.companies.get(account)?.byId.get(callId);
    return kept === undefined ? undefined : this.show(account, callId, kept, signedAt);
  }

  /**
   * One page of `GET /v1/calls`: `from` and `to` (UNIX seconds) filter on `started_at` and BOTH ENDS ARE
   * INCLUSIVE, so a call started exactly at `from` or at `to` is listed; `order` is `asc` (the default) or `desc`
   * on `started_at` then id. Links are signed at `signedAt`.
   */
  list(account: string, url: URL, signedAt: number): JsonObject {
    const from = unixSecondsParam(url, 'from');
    const to = unixSecondsParam(url, 'to');
    const order = orderParam(url);
    const paging = pagingOf(url);
    checkResultWindow(paging);
    const calls = this.of(account);
    const sorted = this.sortedOf(calls);
    const first = from === undefined ? 0 : boundary(sorted, from, false);
    const end = to === undefined ? sorted.length : boundary(sorted, to, true);
    const total = Math.max(0, end - first);
    const start = order === 'asc' ? first + paging.offset : end - paging.offset - paging.perPage;
    const keys = sorted.slice(Math.max(first, start), Math.min(end, start + paging.perPage));
    if (order === 'desc') keys.reverse();
    const items = keys.flatMap(({ callId }) => {
      const kept = calls.byId.get(callId);
      return kept === undefined ? [] : [this.show(account, callId, kept, signedAt)];
    });
    return listPage('calls', items, total, url, paging);
  }

  /** True once a generated event of the call carried a link to the file. */
  hasMedia(file: MediaFile): boolean {
    return (
      typeof this.companies.get(file.account)?.byId.get(String(file.callId))?.data[file.kind] === 'string'
    );
  }

  private show(account: string, callId: string, kept: Latest, signedAt: number): JsonObject {
    // `call_uuid` is only on webhooks.
    const { call_uuid: _webhooksOnly, ...call } = structuredClone(kept.data);
    for (const kind of MEDIA_KINDS) {
      if (typeof call[kind] === 'string') call[kind] = this.links.sign({ account, callId, kind }, signedAt);
    }
    return call;
  }

  private of(account: string): CompanyCalls {
    let calls = this.companies.get(account);
    if (calls === undefined) {
      calls = { byId: new Map(), sorted: undefined };
      this.companies.set(account, calls);
    }
    return calls;
  }

  private sortedOf(calls: CompanyCalls): SortKey[] {
    if (calls.sorted === undefined) {
      calls.sorted = [...calls.byId].map(([callId, { data }]) => ({
        startedAt: numeric(data.started_at),
        id: numeric(data.id),
        callId,
      }));
      calls.sorted.sort(compare);
    }
    return calls.sorted;
  }
}
