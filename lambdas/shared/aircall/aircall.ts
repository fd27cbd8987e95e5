// The Aircall Public API as the guardian, the archive, reconcile and the CLI see it: webhooks, credentials, and the
// errors it answers.

import type { JsonObject } from '../envelope.js';

export interface AircallWebhook {
  /** UUID (a legacy numeric id is still accepted in paths). */
  readonly webhookId: string;
  readonly url: string;
  readonly customName: string;
  /** Read from `active`, or from the older `is_active` when that is what the API returns. */
  readonly active: boolean;
  readonly events: readonly string[];
  /** The shared secret Aircall sends in every delivery: never logged. */
  readonly token: string;
  readonly createdAt?: string;
}

export interface NewWebhook {
  readonly url: string;
  readonly customName?: string;
  /** Absent: Aircall subscribes the webhook to all events. */
  readonly events?: readonly string[];
}

export interface WebhookChanges {
  readonly url?: string;
  readonly customName?: string;
  readonly events?: readonly string[];
  readonly active?: boolean;
}

/** What one listing of a company's webhooks read, and whether it can be trusted to hold every one. */
export interface WebhookListing {
  readonly webhooks: readonly AircallWebhook[];
  /**
   * Set when the listing may lack webhooks (its pages disagree, or hold fewer than the `total` Aircall
   * announced): what it read is still true, but an absence from it proves nothing.
   */
  readonly incomplete?: string;
}

export interface AircallApi {
  /** Every webhook of the company, all pages followed; throws when a page cannot be read. */
  listWebhooks(): Promise<WebhookListing>;
  getWebhook(webhookId: string): Promise<AircallWebhook>;
  createWebhook(webhook: NewWebhook): Promise<AircallWebhook>;
  updateWebhook(webhookId: string, changes: WebhookChanges): Promise<AircallWebhook>;
  deleteWebhook(webhookId: string): Promise<void>;
}

/** UNIX seconds, both ends included: `from`/`to` of GET /v1/calls filter on the call's started_at. */
export interface CallWindow {
  readonly from: number;
  readonly to: number;
}

/** One page of a listing, as Aircall answered it; `nextPageLink` is what a caller checkpoints to go on later. */
export interface ListedPage {
  /** The elements of the answer's `calls`, `users`, `numbers` or `contacts`; integers beyond 2^53 kept exact. */
  readonly items: readonly JsonObject[];
  /** `meta.total`, when the answer gives a count. */
  readonly total: number | undefined;
  /** `meta.current_page`, else the page the request asked for (1 when it named none). */
  readonly page: number;
  /** `meta.per_page`, else the page size the request asked for. */
  readonly perPage: number;
  /** `meta.next_page_link`: null on the last page. */
  readonly nextPageLink: string | null;
}

/** The reads of a backfill or a reconcile, page by page so that the caller can checkpoint between pages. */
export interface AircallReader {
  readonly account: string;
  /**
   * One page of GET /v1/calls?from=&to=&order=asc&per_page=50; `next` is the previous page's next_page_link
   * (followed only on the API's own origin, as listWebhooks does), undefined for the first page. Throws
   * AircallListingCapError past Aircall's 10,000 results: slice the window.
   */
  callsPage(window: CallWindow, next?: string): Promise<ListedPage>;
  /** One page of GET /v1/users?per_page=50. */
  usersPage(next?: string): Promise<ListedPage>;
  /** One page of GET /v1/numbers?per_page=50. */
  numbersPage(next?: string): Promise<ListedPage>;
  /** One page of GET /v1/contacts?per_page=50&order=asc&order_by=created_at. */
  contactsPage(next?: string): Promise<ListedPage>;
  /** GET /v1/calls/:id; undefined on 404. */
  getCall(callId: string): Promise<JsonObject | undefined>;
}

/** One Aircall company's credentials: Basic `api_id`/`api_token`, or an OAuth access token. */
export type AircallCredentials =
  | { readonly account: string; readonly apiId: string; readonly apiToken: string }
  | { readonly account: string; readonly accessToken: string };

/** Base of every error the client raises; `status` is the HTTP status when there was one. */
export class AircallApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: a bad body, more than 100 webhooks, or an unknown event name. */
export class AircallBadRequestError extends AircallApiError {}
/**
 * 400 past the 10,000th result of a listing, paging included: the query must be narrowed (a shorter window), not
 * retried or paged further.
 */
export class AircallListingCapError extends AircallBadRequestError {}
/** 401 or 403: the credentials are wrong or may not do this. */
export class AircallAuthError extends AircallApiError {}
export class AircallNotFoundError extends AircallApiError {}
/** 429 still, after waiting as long as the client allows. */
export class AircallRateLimitError extends AircallApiError {}
/** 5xx. */
export class AircallServerError extends AircallApiError {}
/** No answer within the request timeout, or no connection at all. */
export class AircallUnavailableError extends AircallApiError {}
