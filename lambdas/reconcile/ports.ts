// What the reconcile use case needs from Aircall's API, from the stored state, from the events queue and from the
// per-account record, as interfaces its tests fake.

import type { FetchedResource } from '../../lib/definitions/fetched.js';
import type { CallWindow } from '../shared/aircall/aircall.js';
import type { AircallEnvelope, JsonObject } from '../shared/envelope.js';

export type { CallWindow };

/** One page of a listing. */
export interface ListedPage {
  readonly items: readonly JsonObject[];
  /** The listing's size as Aircall announces it, when it does. */
  readonly total: number | undefined;
  readonly nextPageLink: string | null;
}

/** The list endpoints, a page at a time, so that the caller can stop between two pages and resume. */
export interface ApiReader {
  /** `GET /v1/calls?from&to&order=asc`, or the page `next` links to. */
  callsPage(window: CallWindow, next?: string): Promise<ListedPage>;
  usersPage(next?: string): Promise<ListedPage>;
  numbersPage(next?: string): Promise<ListedPage>;
  contactsPage(next?: string): Promise<ListedPage>;
}

/** Whether an error is Aircall's refusal to page past its 10,000-result cap. */
export type IsListingCap = (error: unknown) => boolean;

/** Where an object stands in the stored state, before its event is sent. */
export interface StoredOrder {
  readonly account: string | undefined;
  readonly orderKey: string | undefined;
}

export interface StoredState {
  /** The owner and order key of each stored item among `ids`; an id with no item is absent from the map. */
  orderKeys(resource: FetchedResource, ids: readonly (number | string)[]): Promise<Map<string, StoredOrder>>;
}

export interface EventSink {
  /** Queues the events for persist under the account; resolves once every one is queued. */
  send(account: string, envelopes: readonly AircallEnvelope[]): Promise<void>;
}

/** How far a reconcile got: JSON, kept between runs so that the next one resumes there. */
export interface ReconcileCursor {
  /** Index into the request's resources of the one being read. */
  readonly stage: number;
  /** For calls: the windows still to read, the current one first. */
  readonly windows: readonly CallWindow[];
  /** The next page of the current listing, when one was started. */
  readonly next?: string;
  /** The `started_at` of the last call read in the current window. */
  readonly seenAt?: number;
  /**
   * The ids of the calls read at `seenAt`: after a cap error mid-listing the window restarts at that second, and
   * these are not taken again.
   */
  readonly seen?: readonly string[];
}
