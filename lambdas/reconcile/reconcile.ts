// The reconcile use case: read an account's calls (window by window, page by page) and its users, numbers and
// contacts from Aircall's API, and queue as events the objects that would change what is stored.

import type { FetchedResource } from '../../lib/definitions/fetched.js';
import type { AircallEnvelope, JsonObject } from '../shared/envelope.js';
import { fetchedEnvelope, type Prediction, predict } from './fetched-event.js';
import type {
  ApiReader,
  CallWindow,
  EventSink,
  IsListingCap,
  ListedPage,
  ReconcileCursor,
  StoredState,
} from './ports.js';

/** Aircall answers no result of one listing past this many (FACTS.md: page 201 at 50 a page is refused). */
export const LISTING_CAP = 10_000;

export interface ReconcileRequest {
  readonly account: string;
  /** The calls to read, by `started_at`; the other resources are read whole. */
  readonly window: CallWindow;
  readonly resources: readonly FetchedResource[];
  /** Where an earlier run of the same request stopped. */
  readonly cursor?: ReconcileCursor;
}

/** What one page brought, for a progress display. */
export interface PageProgress {
  readonly resource: FetchedResource;
  readonly items: number;
  /** The listing's announced size, when Aircall gave it. */
  readonly total: number | undefined;
  /** For calls: the window being read. */
  readonly window?: CallWindow;
  readonly counts: ReconcileCounts;
}

export interface ReconcileDeps {
  readonly reader: ApiReader;
  readonly stored: StoredState;
  readonly sink: EventSink;
  readonly isListingCap: IsListingCap;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Epoch milliseconds after which no page is started: the run stops and hands back its cursor. */
  readonly deadline?: number;
  /** Reads, predicts and counts, but sends nothing. */
  readonly dryRun?: boolean;
  readonly onPage?: (progress: PageProgress) => void;
  /** @default LISTING_CAP */
  readonly listingCap?: number;
}

export type ReconcileCounts = Record<'fetched' | 'pages' | 'splits' | Prediction, number>;

export interface ReconcileReport {
  readonly account: string;
  /** False when the deadline stopped it: `cursor` says where to resume. */
  readonly complete: boolean;
  readonly cursor?: ReconcileCursor;
  readonly counts: ReconcileCounts;
  /** Objects read, by resource. */
  readonly fetched: Readonly<Record<FetchedResource, number>>;
}

const idOf = (data: JsonObject): string | undefined => {
  const { id } = data;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  if (typeof id === 'object' && id !== null && !Array.isArray(id) && 'toString' in id) {
    const text = String(id);
    return /^\d+$/.test(text) ? text : undefined;
  }
  if (typeof id === 'string' && /^\d+$/.test(id)) return id;
  return undefined;
};

const startedAt = (data: JsonObject): number | undefined =>
  typeof data.started_at === 'number' ? data.started_at : undefined;

const splitWindow = ({ from, to }: CallWindow): [CallWindow, CallWindow] => {
  const middle = Math.floor((from + to) / 2);
  return [
    { from, to: middle },
    { from: middle + 1, to },
  ];
};

/** The stateful part of one run: counts, and the objects of a page turned into the events worth sending. */
class Run {
  readonly counts: ReconcileCounts = {
    fetched: 0,
    pages: 0,
    splits: 0,
    new: 0,
    updated: 0,
    unchanged: 0,
    foreign: 0,
  };
  readonly fetched: Record<FetchedResource, number> = { call: 0, user: 0, number: 0, contact: 0 };

  constructor(
    private readonly account: string,
    private readonly deps: ReconcileDeps,
  ) {}

  /** Predicts each object against the stored state and queues those that would change it. */
  async take(resource: FetchedResource, items: readonly JsonObject[]): Promise<void> {
    const objects = items.flatMap((data) => {
      const id = idOf(data);
      return id === undefined ? [] : [{ id, envelope: fetchedEnvelope(resource, data) }];
    });
    this.counts.fetched += items.length;
    this.fetched[resource] += items.length;
    this.counts.pages += 1;
    if (objects.length === 0) return;
    const stored = await this.deps.stored.orderKeys(
      resource,
      objects.map((o) => o.id),
    );
    const send: AircallEnvelope[] = [];
    for (const { id, envelope } of objects) {
      const prediction = predict(envelope, this.account, stored.get(id));
      this.counts[prediction] += 1;
      if (prediction === 'new' || prediction === 'updated') send.push(envelope);
    }
    if (send.length > 0 && this.deps.dryRun !== true) await this.deps.sink.send(this.account, send);
  }

  pastDeadline(): boolean {
    return this.deps.deadline !== undefined && this.deps.now() >= this.deps.deadline;
  }
}

const LISTS: Readonly<Record<Exclude<FetchedResource, 'call'>, keyof Omit<ApiReader, 'callsPage'>>> = {
  user: 'usersPage',
  number: 'numbersPage',
  contact: 'contactsPage',
};

/**
 * Reads what the request names and queues what would change the stored state, under persist's own rules: an
 * object whose item is already at or past it is counted unchanged and not sent, so a second run over the same
 * window sends nothing when Aircall's data has not changed. A window whose listing would pass Aircall's 10,000
 * cap is split in two, at a second boundary, before any of it is read; should the cap still be met mid-listing (calls
 * added meanwhile), the window resumes at the second of the last call read, skipping the calls already read there.
 */
export const reconcile = async (request: ReconcileRequest, deps: ReconcileDeps): Promise<ReconcileReport> => {
  const run = new Run(request.account, deps);
  const cap = deps.listingCap ?? LISTING_CAP;
  let stage = request.cursor?.stage ?? 0;
  let windows: readonly CallWindow[] = request.cursor?.windows ?? [request.window];
  let next = request.cursor?.next;
  // The second of the last call read in the current window, and the ids read at that second.
  let lastSecond = request.cursor?.seenAt;
  let seen = new Set(request.cursor?.seen ?? []);

  const track = (items: readonly JsonObject[]): void => {
    for (const data of items) {
      const second = startedAt(data);
      const id = idOf(data);
      if (second === undefined || id === undefined) continue;
      if (second !== lastSecond) {
        lastSecond = second;
        seen = new Set();
      }
      seen.add(id);
    }
  };

  const report = (complete: boolean): ReconcileReport => ({
    account: request.account,
    complete,
    ...(complete
      ? {}
      : {
          cursor: {
            stage,
            windows,
            ...(next === undefined ? {} : { next }),
            ...(lastSecond === undefined ? {} : { seenAt: lastSecond, seen: [...seen] }),
          },
        }),
    counts: run.counts,
    fetched: run.fetched,
  });

  for (; stage < request.resources.length; stage += 1) {
    const resource = request.resources[stage];
    if (resource === undefined) break;
    if (resource !== 'call') {
      do {
        if (run.pastDeadline()) return report(false);
        const page: ListedPage = await deps.reader[LISTS[resource]](next);
        await run.take(resource, page.items);
        deps.onPage?.({ resource, items: page.items.length, total: page.total, counts: run.counts });
        next = page.nextPageLink ?? undefined;
      } while (next !== undefined);
      continue;
    }
    while (windows.length > 0) {
      if (run.pastDeadline()) return report(false);
      const [window, ...rest] = windows;
      if (window === undefined) break;
      let page: ListedPage;
      try {
        page = await deps.reader.callsPage(window, next);
      } catch (error) {
        if (!deps.isListingCap(error) || next === undefined || lastSecond === undefined) throw error;
        // The listing grew past the cap while it was read: a new listing from the second of the last call taken,
        // which skips the calls already taken at that second.
        windows = [{ from: lastSecond, to: window.to }, ...rest];
        next = undefined;
        run.counts.splits += 1;
        continue;
      }
      if (next === undefined && page.total !== undefined && page.total > cap && window.from < window.to) {
        windows = [...splitWindow(window), ...rest];
        run.counts.splits += 1;
        continue;
      }
      await run.take(
        'call',
        page.items.filter((data) => !seen.has(idOf(data) ?? '')),
      );
      deps.onPage?.({
        resource: 'call',
        items: page.items.length,
        total: page.total,
        window,
        counts: run.counts,
      });
      track(page.items);
      next = page.nextPageLink ?? undefined;
      if (next === undefined) {
        windows = rest;
        lastSecond = undefined;
        seen = new Set();
      }
    }
    windows = [request.window];
  }
  return report(true);
};
