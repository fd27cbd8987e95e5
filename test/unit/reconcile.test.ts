// The reconcile use case against an in-memory Aircall listing: windows split under the cap, every call taken once
// at slice boundaries, a run stopped by its deadline resumed where it stopped, and only changes sent.

import { describe, expect, it } from 'vitest';
import type {
  ApiReader,
  CallWindow,
  ListedPage,
  ReconcileCursor,
  StoredOrder,
  StoredState,
} from '../../lambdas/reconcile/ports.js';
import { type ReconcileDeps, type ReconcileRequest, reconcile } from '../../lambdas/reconcile/reconcile.js';
import type { AircallEnvelope, JsonObject } from '../../lambdas/shared/envelope.js';
import type { FetchedResource } from '../../lib/definitions/fetched.js';

class ListingCapError extends Error {}

const PER_PAGE = 50;

/** Calls as Aircall lists them: by started_at then id, both window ends included, refused past `cap` results. */
class FakeAircall implements ApiReader {
  readonly requests: string[] = [];
  /** What the first page says the total is, when a test wants it to be out of date. */
  announcedTotal: number | undefined;

  constructor(
    readonly calls: JsonObject[],
    private readonly cap: number,
    readonly users: JsonObject[] = [],
  ) {}

  async callsPage(window: CallWindow, next?: string): Promise<ListedPage> {
    const page = next === undefined ? 1 : Number(new URL(next).searchParams.get('page'));
    this.requests.push(`calls ${window.from}-${window.to} p${page}`);
    const offset = (page - 1) * PER_PAGE;
    if (offset >= this.cap) throw new ListingCapError('Your query is limited to 10k results');
    const matching = this.calls
      .filter((c) => Number(c.started_at) >= window.from && Number(c.started_at) <= window.to)
      .sort((a, b) => Number(a.started_at) - Number(b.started_at) || Number(a.id) - Number(b.id));
    const items = matching.slice(offset, offset + PER_PAGE);
    const more = offset + PER_PAGE < matching.length;
    return {
      items,
      total: page === 1 && this.announcedTotal !== undefined ? this.announcedTotal : matching.length,
      nextPageLink: more
        ? `https://api.example/v1/calls?from=${window.from}&to=${window.to}&page=${page + 1}`
        : null,
    };
  }

  async usersPage(next?: string): Promise<ListedPage> {
    const page = next === undefined ? 1 : Number(new URL(next).searchParams.get('page'));
    const offset = (page - 1) * PER_PAGE;
    return {
      items: this.users.slice(offset, offset + PER_PAGE),
      total: this.users.length,
      nextPageLink:
        offset + PER_PAGE < this.users.length ? `https://api.example/v1/users?page=${page + 1}` : null,
    };
  }

  async numbersPage(): Promise<ListedPage> {
    return { items: [], total: 0, nextPageLink: null };
  }

  async contactsPage(): Promise<ListedPage> {
    return { items: [], total: 0, nextPageLink: null };
  }
}

/** The queue, and a stored state that learns what was sent, as persist would store it. */
class FakeStore implements StoredState {
  readonly sent: AircallEnvelope[] = [];
  readonly items = new Map<string, StoredOrder>();

  /** Keyed `<resource>:<id>`: each resource has a table of its own. */
  async orderKeys(resource: FetchedResource, ids: readonly (number | string)[]) {
    const wanted = new Set(ids.map((id) => `${resource}:${id}`));
    return new Map(
      [...this.items]
        .filter(([key]) => wanted.has(key))
        .map(([key, order]) => [key.split(':')[1] ?? '', order]),
    );
  }

  sink = {
    send: async (account: string, envelopes: readonly AircallEnvelope[]) => {
      for (const envelope of envelopes) {
        this.sent.push(envelope);
        // Stored with the highest key there is: the next run finds it unchanged.
        this.items.set(`${envelope.resource}:${envelope.data.id}`, { account, orderKey: '9' });
      }
    },
  };
}

const call = (id: number, startedAt: number): JsonObject => ({
  id,
  status: 'done',
  started_at: startedAt,
  ended_at: startedAt + 60,
  duration: 60,
});

/** `count` calls spread over [from, to], several at each second. */
const callsOver = (count: number, from: number, to: number): JsonObject[] =>
  Array.from({ length: count }, (_, i) => call(1000 + i, from + Math.floor((i * (to - from + 1)) / count)));

const setup = (calls: JsonObject[], cap = 200, extra: Partial<ReconcileDeps> = {}) => {
  const aircall = new FakeAircall(calls, cap);
  const store = new FakeStore();
  const deps: ReconcileDeps = {
    reader: aircall,
    stored: store,
    sink: store.sink,
    isListingCap: (error) => error instanceof ListingCapError,
    now: () => 0,
    listingCap: cap,
    ...extra,
  };
  return { aircall, store, deps };
};

const request = (window: CallWindow, cursor?: ReconcileCursor): ReconcileRequest => ({
  account: 'acme',
  window,
  resources: ['call'],
  ...(cursor === undefined ? {} : { cursor }),
});

const sentIds = (store: FakeStore): number[] =>
  store.sent.map((e) => Number(e.data.id)).sort((a, b) => a - b);

describe('reconcile', () => {
  it('reads a window under the cap page by page and sends every call of it once, as call.fetched events', async () => {
    const calls = [...callsOver(120, 1000, 1999), call(1, 999), call(2, 2000)];
    const { store, aircall, deps } = setup(calls);
    const report = await reconcile(request({ from: 1000, to: 1999 }), deps);

    expect(report).toMatchObject({ complete: true, counts: { fetched: 120, pages: 3, splits: 0, new: 120 } });
    expect(sentIds(store)).toEqual(calls.slice(0, 120).map((c) => Number(c.id)));
    expect(store.sent[0]).toMatchObject({ resource: 'call', event: 'call.fetched', timestamp: 1060 });
    expect(aircall.requests).toHaveLength(3);
  });

  it('splits a window whose listing passes the cap, and takes every call once across the slice boundaries', async () => {
    // 1,000 calls over 100 seconds: ten at every second, so every boundary falls among calls of one second.
    const calls = callsOver(1000, 5000, 5099);
    const { store, deps } = setup(calls, 200);
    const report = await reconcile(request({ from: 5000, to: 5099 }), deps);

    expect(report.complete).toBe(true);
    expect(report.counts.splits).toBeGreaterThanOrEqual(3);
    expect(sentIds(store)).toEqual(calls.map((c) => Number(c.id)));
  });

  it('never asks for a page past the cap', async () => {
    const { aircall, deps } = setup(callsOver(1000, 5000, 5099), 200);
    await reconcile(request({ from: 5000, to: 5099 }), deps);
    expect(aircall.requests.filter((r) => Number(r.split(' p')[1]) > 200 / PER_PAGE)).toEqual([]);
  });

  it('goes on from the second of the last call read when the cap is met mid-listing, taking no call twice', async () => {
    const calls = callsOver(300, 100, 129);
    const { aircall, store, deps } = setup(calls, 200);
    // The first page announces fewer calls than there are, as a listing that grew while it was read would.
    aircall.announcedTotal = 150;
    const report = await reconcile(request({ from: 100, to: 129 }), deps);

    expect(report.complete).toBe(true);
    expect(sentIds(store)).toEqual(calls.map((c) => Number(c.id)));
  });

  it('stops at its deadline with a cursor, and a run from that cursor takes the rest, nothing twice', async () => {
    const calls = callsOver(1000, 5000, 5099);
    let clock = 0;
    const first = setup(calls, 200, { now: () => clock, deadline: 5 });
    const reader = first.deps.reader;
    const counting: ApiReader = {
      ...reader,
      callsPage: (window, next) => {
        clock += 1;
        return reader.callsPage(window, next);
      },
      usersPage: (next) => reader.usersPage(next),
      numbersPage: () => reader.numbersPage(),
      contactsPage: () => reader.contactsPage(),
    };
    const stopped = await reconcile(request({ from: 5000, to: 5099 }), { ...first.deps, reader: counting });
    expect(stopped.complete).toBe(false);
    expect(stopped.cursor).toBeDefined();

    const resumed = await reconcile(
      request({ from: 5000, to: 5099 }, JSON.parse(JSON.stringify(stopped.cursor))),
      {
        ...first.deps,
        deadline: undefined,
      },
    );
    expect(resumed.complete).toBe(true);
    expect(sentIds(first.store)).toEqual(calls.map((c) => Number(c.id)));
  });

  it('sends nothing the second time over the same window, counting every call unchanged', async () => {
    const { store, deps } = setup(callsOver(120, 1000, 1999));
    await reconcile(request({ from: 1000, to: 1999 }), deps);
    const again = await reconcile(request({ from: 1000, to: 1999 }), deps);
    expect(again.counts).toMatchObject({ fetched: 120, new: 0, updated: 0, unchanged: 120 });
    expect(store.sent).toHaveLength(120);
  });

  it('sends an object stored with an older order key, and nothing for another account’s item', async () => {
    const { store, deps } = setup([call(1, 1000), call(2, 1001), call(3, 1002)]);
    store.items.set('call:1', { account: 'acme', orderKey: '0#' });
    store.items.set('call:2', { account: 'globex', orderKey: '0#' });
    const report = await reconcile(request({ from: 1000, to: 1002 }), deps);
    expect(report.counts).toMatchObject({ updated: 1, foreign: 1, new: 1 });
    expect(sentIds(store)).toEqual([1, 3]);
  });

  it('reads and counts but sends nothing on a dry run', async () => {
    const { store, deps } = setup(callsOver(60, 1000, 1059), 200, { dryRun: true });
    const report = await reconcile(request({ from: 1000, to: 1059 }), deps);
    expect(report.counts).toMatchObject({ fetched: 60, new: 60 });
    expect(store.sent).toEqual([]);
  });

  it('reads users page by page after the calls', async () => {
    const users = Array.from({ length: 70 }, (_, i) => ({
      id: i + 1,
      name: `agent ${i}`,
      created_at: 1_600_000_000,
    }));
    const aircall = new FakeAircall([call(1, 1000)], 200, users);
    const store = new FakeStore();
    const report = await reconcile(
      { account: 'acme', window: { from: 1000, to: 1000 }, resources: ['call', 'user'] },
      { reader: aircall, stored: store, sink: store.sink, isListingCap: () => false, now: () => 0 },
    );
    expect(report.fetched).toEqual({ call: 1, user: 70, number: 0, contact: 0 });
    expect(store.sent.filter((e) => e.event === 'user.fetched')).toHaveLength(70);
  });
});
