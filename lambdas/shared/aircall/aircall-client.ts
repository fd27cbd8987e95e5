// AircallApi over fetch for the guardian, the archive, reconcile and the CLI: auth, pagination, rate-limit waits,
// retries.

import { AIRCALL_API_URL } from '../../../lib/definitions/pipeline.js';
import type { JsonObject } from '../envelope.js';
import {
  type AircallApi,
  AircallApiError,
  AircallAuthError,
  AircallBadRequestError,
  type AircallCredentials,
  AircallListingCapError,
  AircallNotFoundError,
  AircallRateLimitError,
  type AircallReader,
  AircallServerError,
  AircallUnavailableError,
  type AircallWebhook,
  type CallWindow,
  type ListedPage,
  type NewWebhook,
  type WebhookChanges,
  type WebhookListing,
} from './aircall.js';
import {
  errorDetail,
  type ListedResource,
  parseCallAnswer,
  parseJson,
  parseListedPage,
  parseReadJson,
  parseWebhookAnswer,
  parseWebhookPage,
  toCreateBody,
  toUpdateBody,
} from './aircall-wire.js';
import { AircallRateLimiter, backoff, defaultSleep, type RateLimitBudget } from './rate-limiter.js';

export interface AircallClientOptions {
  readonly credentials: AircallCredentials;
  /** Paths such as `/webhooks` are appended to it. @default 'https://api.aircall.io/v1' */
  readonly baseUrl?: string;
  /** Per request, answer body included. @default 5000 */
  readonly timeoutMs?: number;
  /** Total time one method call may spend waiting on 429s (a list counts all its pages). @default 60000 */
  readonly maxRateLimitWaitMs?: number;
  /**
   * The company's pacing, shared with its other clients in this process (see AircallRateLimiters).
   * @default a limiter of this client's own, built from `minIntervalMs`, `sleep` and `now`
   */
  readonly limiter?: AircallRateLimiter;
  /** Spacing between request starts; 500 keeps under 120 a minute. Unused when `limiter` is given. @default 0 */
  readonly minIntervalMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Retry backoffs, and the private limiter's waits. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds, for the private limiter. @default Date.now */
  readonly now?: () => number;
  /**
   * Aborted when the caller's time is up: a request in flight is cancelled and no new one starts, so work that timed
   * out never goes on reaching Aircall (or writing what it read) after its caller has given up.
   */
  readonly signal?: AbortSignal;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Answer {
  readonly status: number;
  readonly text: string;
}

// Aircall's largest page: the fewest requests against the company's rate limit.
const PAGE_SIZE = 50;
// 100 webhooks at most, 50 a page: a list still going after this many pages is looping.
const MAX_PAGES = 20;
// 5xx and lost connections: two more tries, soon, and only where repeating the request is harmless.
const FAILURE_RETRIES = 2;
const FIRST_FAILURE_BACKOFF_MS = 200;

// Aircall's words for a listing past its 10,000th result (FACTS: "Your query is limited to 10k results ...").
const LISTING_CAP = /limited to 10k results/i;

/** Refuses a window GET /v1/calls would misread: `from`/`to` are whole UNIX seconds, `from` not after `to`. */
const checkWindow = ({ from, to }: CallWindow): void => {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to)
    throw new RangeError(`a call window is whole UNIX seconds with from <= to, not ${from}..${to}`);
};

const isTimeout = (error: unknown): boolean => error instanceof Error && error.name === 'TimeoutError';

/** The system error code under a fetch failure (ECONNREFUSED, ...), never its message. */
const networkCode = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' ? code : 'network error';
};

/**
 * Why a listing read page by page may lack webhooks, or undefined when nothing says so. Pages are offsets into a
 * list that can change between two reads: a webhook created or deleted meanwhile shifts the rest, so one can be
 * read twice or skipped. Pages that disagree on `total`, a webhook read twice, or fewer webhooks than `total`
 * all mean the listing proves no absence.
 */
const listingGap = (read: number, totals: ReadonlySet<number>, repeated: number): string | undefined => {
  if (totals.size > 1) return `the webhook list changed while it was read (totals ${[...totals].join(', ')})`;
  if (repeated > 0) return `the webhook list changed while it was read (${repeated} read twice)`;
  const [total] = [...totals];
  if (total !== undefined && read < total) return `the webhook list held ${read} of ${total} webhooks`;
  return undefined;
};

export class AircallClient implements AircallApi, AircallReader {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly authorization: string;
  private readonly secrets: readonly string[];
  readonly account: string;
  private readonly timeoutMs: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly limiter: AircallRateLimiter;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly signal: AbortSignal | undefined;

  constructor(options: AircallClientOptions) {
    this.signal = options.signal;
    this.base = new URL(options.baseUrl ?? AIRCALL_API_URL);
    this.basePath = this.base.href.replace(/\/+$/, '');
    const { credentials } = options;
    this.account = credentials.account;
    if ('accessToken' in credentials) {
      this.authorization = `Bearer ${credentials.accessToken}`;
      this.secrets = [credentials.accessToken];
    } else {
      const pair = `${credentials.apiId}:${credentials.apiToken}`;
      this.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
      this.secrets = [credentials.apiToken];
    }
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? defaultSleep;
    this.limiter =
      options.limiter ??
      new AircallRateLimiter({
        minIntervalMs: options.minIntervalMs ?? 0,
        sleep: this.sleep,
        ...(options.now === undefined ? {} : { now: options.now }),
      });
  }

  async listWebhooks(): Promise<WebhookListing> {
    const budget = this.budget();
    const byId = new Map<string, AircallWebhook>();
    const totals = new Set<number>();
    let repeated = 0;
    const visited = new Set<string>();
    let url: URL | undefined = this.url('/webhooks');
    url.searchParams.set('per_page', String(PAGE_SIZE));
    while (url !== undefined) {
      if (visited.has(url.href) || visited.size >= MAX_PAGES)
        throw new AircallApiError(
          `Aircall's webhook list did not end after ${visited.size} pages`,
          undefined,
        );
      visited.add(url.href);
      const label = `GET ${url.pathname}`;
      const answer = await this.send('GET', url, budget);
      const page = parseWebhookPage(parseJson(answer.text, label, answer.status), label, answer.status);
      for (const webhook of page.webhooks) {
        if (byId.has(webhook.webhookId)) repeated++;
        else byId.set(webhook.webhookId, webhook);
      }
      if (page.total !== undefined) totals.add(page.total);
      url = page.nextPageLink === undefined ? undefined : this.followable(page.nextPageLink);
    }
    const webhooks = [...byId.values()];
    const incomplete = listingGap(webhooks.length, totals, repeated);
    return incomplete === undefined ? { webhooks } : { webhooks, incomplete };
  }

  async getWebhook(webhookId: string): Promise<AircallWebhook> {
    return this.webhookCall('GET', this.webhookUrl(webhookId));
  }

  async createWebhook(webhook: NewWebhook): Promise<AircallWebhook> {
    return this.webhookCall('POST', this.url('/webhooks'), toCreateBody(webhook));
  }

  async updateWebhook(webhookId: string, changes: WebhookChanges): Promise<AircallWebhook> {
    return this.webhookCall('PUT', this.webhookUrl(webhookId), toUpdateBody(changes));
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    // 204 and no body; any other 2xx is taken as done too.
    await this.send('DELETE', this.webhookUrl(webhookId), this.budget());
  }

  async callsPage(window: CallWindow, next?: string): Promise<ListedPage> {
    checkWindow(window);
    return this.listedPage('calls', next, {
      from: String(window.from),
      to: String(window.to),
      order: 'asc',
      per_page: String(PAGE_SIZE),
    });
  }

  async usersPage(next?: string): Promise<ListedPage> {
    return this.listedPage('users', next, { per_page: String(PAGE_SIZE) });
  }

  async numbersPage(next?: string): Promise<ListedPage> {
    return this.listedPage('numbers', next, { per_page: String(PAGE_SIZE) });
  }

  async contactsPage(next?: string): Promise<ListedPage> {
    // Oldest first: contacts created while the listing runs land on later pages instead of shifting earlier ones.
    return this.listedPage('contacts', next, {
      per_page: String(PAGE_SIZE),
      order: 'asc',
      order_by: 'created_at',
    });
  }

  async getCall(callId: string): Promise<JsonObject | undefined> {
    const url = this.url(`/calls/${encodeURIComponent(callId)}`);
    const label = `GET ${url.pathname}`;
    let answer: Answer;
    try {
      answer = await this.send('GET', url, this.budget());
    } catch (error) {
      if (error instanceof AircallNotFoundError) return undefined;
      throw error;
    }
    return parseCallAnswer(parseReadJson(answer.text, label, answer.status), label, answer.status);
  }

  /** The first page from `query`, or the page `next` links to: the link carries the filters of its listing. */
  private async listedPage(
    resource: ListedResource,
    next: string | undefined,
    query: Readonly<Record<string, string>>,
  ): Promise<ListedPage> {
    let url: URL;
    if (next === undefined) {
      url = this.url(`/${resource}`);
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    } else url = this.followable(next);
    const label = `GET ${url.pathname}`;
    const answer = await this.send('GET', url, this.budget());
    return parseListedPage(
      parseReadJson(answer.text, label, answer.status),
      resource,
      url,
      label,
      answer.status,
    );
  }

  private async webhookCall(method: Method, url: URL, body?: unknown): Promise<AircallWebhook> {
    const label = `${method} ${url.pathname}`;
    const answer = await this.send(method, url, this.budget(), body);
    return parseWebhookAnswer(parseJson(answer.text, label, answer.status), label, answer.status);
  }

  private budget(): RateLimitBudget {
    return { remainingMs: this.maxRateLimitWaitMs };
  }

  private url(path: string): URL {
    return new URL(`${this.basePath}${path}`);
  }

  private webhookUrl(webhookId: string): URL {
    return this.url(`/webhooks/${encodeURIComponent(webhookId)}`);
  }

  /** A next_page_link, refused unless it points at the configured origin: credentials go nowhere else. */
  private followable(link: string): URL {
    let url: URL;
    try {
      url = new URL(link, this.base);
    } catch {
      throw new AircallApiError('Aircall answered a next_page_link that is not a URL', undefined);
    }
    if (url.origin !== this.base.origin)
      throw new AircallApiError(
        `Refused to follow next_page_link to ${url.origin}: credentials are sent only to ${this.base.origin}`,
        undefined,
      );
    return url;
  }

  /** One request with its waits and retries; resolves with any 2xx, throws a named error otherwise. */
  private async send(method: Method, url: URL, budget: RateLimitBudget, body?: unknown): Promise<Answer> {
    const label = `${method} ${url.pathname}`;
    // POST creates: a retry after a lost answer could make a second webhook with a second token.
    const retriable = method !== 'POST';
    let failures = 0;
    let blindWaits = 0;
    for (;;) {
      this.signal?.throwIfAborted();
      await this.limiter.turn(budget);
      this.signal?.throwIfAborted();
      let response: Response;
      let text: string;
      try {
        response = await this.fetch(url, {
          method,
          headers: {
            authorization: this.authorization,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          // A redirect would carry the credentials to wherever it points; Aircall's API does not redirect.
          redirect: 'manual',
          signal:
            this.signal === undefined
              ? AbortSignal.timeout(this.timeoutMs)
              : AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        text = await response.text();
      } catch (error) {
        // The caller gave up: its reason, not a retry.
        if (this.signal?.aborted === true) throw this.signal.reason;
        if (!retriable || failures >= FAILURE_RETRIES) throw this.unavailable(label, error, retriable);
        await this.sleep(backoff(FIRST_FAILURE_BACKOFF_MS, failures++));
        continue;
      }
      const { status } = response;
      if (status === 429) {
        // Every client of the company holds off, not only this call: the limit is the company's.
        const { blind } = this.limiter.backOff(response.headers, blindWaits);
        if (budget.remainingMs <= 0)
          throw new AircallRateLimitError(
            `Aircall still answered 429 to ${label} after waiting ${this.maxRateLimitWaitMs} ms`,
            status,
          );
        if (blind) blindWaits++;
        // The wait itself is the limiter's pause, taken at the next turn and drawn from this call's budget.
        continue;
      }
      this.limiter.observe(response.headers);
      if (status >= 500 && retriable && failures < FAILURE_RETRIES) {
        await this.sleep(backoff(FIRST_FAILURE_BACKOFF_MS, failures++));
        continue;
      }
      if (status >= 200 && status < 300) return { status, text };
      throw this.failure(label, status, text);
    }
  }

  private unavailable(label: string, error: unknown, retried: boolean): AircallUnavailableError {
    const tries = retried ? ` (${FAILURE_RETRIES + 1} tries)` : '';
    const what = isTimeout(error)
      ? `no answer from Aircall to ${label} within ${this.timeoutMs} ms${tries}`
      : `could not reach Aircall for ${label}: ${networkCode(error)}${tries}`;
    // The request may have reached Aircall: say so where repeating it is not harmless.
    const warning = retried ? '' : '; the webhook may have been created, list before creating again';
    return new AircallUnavailableError(this.redact(`${what}${warning}`), undefined, { cause: error });
  }

  private failure(label: string, status: number, text: string): AircallApiError {
    const detail = errorDetail(text);
    const suffix = detail === undefined ? '' : `: ${detail}`;
    const message = (what: string): string => this.redact(`Aircall ${what} (${status})${suffix}`);
    if (status === 400 && detail !== undefined && LISTING_CAP.test(detail))
      return new AircallListingCapError(message(`refused ${label} past its 10,000-result cap`), status);
    if (status === 400)
      return new AircallBadRequestError(message(`refused ${label} as a bad request`), status);
    if (status === 401 || status === 403)
      return new AircallAuthError(message(`refused the credentials of ${this.account} for ${label}`), status);
    if (status === 404) return new AircallNotFoundError(message(`found nothing at ${label}`), status);
    if (status >= 500) return new AircallServerError(message(`failed on ${label}`), status);
    if (status >= 300 && status < 400)
      return new AircallApiError(message(`redirected ${label}, which is not followed`), status);
    return new AircallApiError(message(`answered ${label} unexpectedly`), status);
  }

  /** Belt and braces: should Aircall echo a credential in an error text, it does not reach a message. */
  private redact(message: string): string {
    return this.secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
  }
}
