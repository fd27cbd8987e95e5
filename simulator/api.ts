// Aircall's Public API under /v1: auth, rate limit, the webhook CRUD with its pitfalls, and routing to the read endpoints.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestError,
  NotFoundError,
  RateLimitedError,
  ResultWindowError,
  UnauthorizedError,
} from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { checkResultWindow, listPage, pagingOf } from './paging.js';
import type { RateDecision, RateLimiter } from './rate-limit.js';
import type { CompanyConfig, Webhook, WebhookPatch, WebhookStore } from './store.js';

/** `active` is the current name; Aircall's older tutorial writes `is_active`. */
export type ActiveFieldName = 'active' | 'is_active';
/** `X-AircallApi-Reset` has been seen both ways. */
export type ResetUnit = 'seconds' | 'milliseconds';

export interface ApiOptions {
  readonly activeFieldName: ActiveFieldName;
  readonly resetUnit: ResetUnit;
  readonly resetEventsOnPutWithoutEvents: boolean;
}

export interface ApiDeps {
  readonly store: WebhookStore;
  readonly limiter: RateLimiter;
  readonly options: ApiOptions;
  /** A generated call's latest data with freshly signed media links, or undefined for an unknown id. */
  readonly call: (account: string, callId: string) => JsonObject | undefined;
  /** The read-only listings by collection (`calls`, `users`, ...): the company's page for the request URL. */
  readonly lists: ReadonlyMap<string, (account: string, url: URL) => JsonObject>;
}

/** Aircall's words past the 10,000th result, as Airbyte's Aircall source quotes them. */
export const RESULT_WINDOW_ERROR =
  'Your query is limited to 10k results and pagination is out of bound, please use timestamps or other filters.';
const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Answer {
  readonly status: number;
  readonly body?: JsonValue;
}

const sendJson = (response: ServerResponse, answer: Answer): void => {
  if (answer.body === undefined) {
    response.writeHead(answer.status).end();
    return;
  }
  const text = JSON.stringify(answer.body);
  response
    .writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
};

/** The one place errors become statuses; 400 and 404 texts are the simulator's own, so they are safe to show. */
const errorAnswer = (error: unknown): Answer => {
  const body = (status: number, title: string, troubleshoot: string): Answer => ({
    status,
    body: { error: title, troubleshoot },
  });
  if (error instanceof ResultWindowError) {
    return body(
      400,
      RESULT_WINDOW_ERROR,
      'Narrow the query with from and to so that it matches at most 10,000 results.',
    );
  }
  if (error instanceof BadRequestError) return body(400, 'Bad Request', error.message);
  if (error instanceof UnauthorizedError) {
    return body(
      401,
      'Unauthorized',
      'Check your API ID and API token (HTTP Basic auth), or your OAuth access token (Bearer).',
    );
  }
  if (error instanceof NotFoundError) return body(404, 'Not Found', error.message);
  if (error instanceof RateLimitedError) {
    return body(429, 'Too Many Requests', 'Wait until the time in X-AircallApi-Reset, then retry.');
  }
  console.error('simulator API: unexpected error', error);
  return body(500, 'Internal Server Error', 'The simulator failed; see its output.');
};

const authenticate = (request: IncomingMessage, store: WebhookStore): CompanyConfig => {
  const header = request.headers.authorization ?? '';
  const [scheme = '', value = ''] = header.split(' ', 2);
  let company: CompanyConfig | undefined;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) company = store.companyByBasic(decoded.slice(0, colon), decoded.slice(colon + 1));
  } else if (scheme.toLowerCase() === 'bearer' && value !== '') {
    company = store.companyByAccessToken(value);
  }
  if (company === undefined) throw new UnauthorizedError('missing or wrong credentials');
  return company;
};

const rateHeaders = (response: ServerResponse, decision: RateDecision, unit: ResetUnit): void => {
  const reset = unit === 'seconds' ? Math.ceil(decision.resetAtMs / 1000) : decision.resetAtMs;
  response.setHeader('X-AircallApi-Limit', String(decision.limit));
  response.setHeader('X-AircallApi-Remaining', String(decision.remaining));
  response.setHeader('X-AircallApi-Reset', String(reset));
};

const readBody = async (request: IncomingMessage): Promise<JsonObject> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError('body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('body is not JSON', { cause: error });
  }
  if (!isJsonObject(parsed)) throw new BadRequestError('body must be a JSON object');
  return parsed;
};

const optionalString = (body: JsonObject, field: string): string | undefined => {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`${field} must be a string`);
  return value;
};

const optionalEvents = (body: JsonObject): string[] | undefined => {
  const value = body.events;
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new BadRequestError('events must be a list of event names');
  return value.map((name) => {
    if (typeof name !== 'string') throw new BadRequestError('events must be a list of event names');
    return name;
  });
};

const optionalBoolean = (body: JsonObject, field: string): boolean | undefined => {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new BadRequestError(`${field} must be true or false`);
  return value;
};

export const createApiHandler = ({ store, limiter, options, call, lists }: ApiDeps): Handler => {
  const serialize = (webhook: Webhook, origin: string): JsonObject => ({
    webhook_id: webhook.webhookId,
    direct_link: `${origin}/v1/webhooks/${webhook.webhookId}`,
    created_at: webhook.createdAt,
    url: webhook.url,
    custom_name: webhook.customName,
    [options.activeFieldName]: webhook.active,
    token: webhook.token,
    events: [...webhook.events],
  });

  const list = (company: CompanyConfig, url: URL): Answer => {
    const paging = pagingOf(url);
    checkResultWindow(paging);
    const all = store.list(company.account);
    const items = all.slice(paging.offset, paging.offset + paging.perPage);
    const serialized = items.map((w) => serialize(w, url.origin));
    return { status: 200, body: listPage('webhooks', serialized, all.length, url, paging) };
  };

  const create = async (company: CompanyConfig, request: IncomingMessage, origin: string) => {
    const body = await readBody(request);
    const url = optionalString(body, 'url');
    if (url === undefined || url === '') throw new BadRequestError('url is required');
    const customName = optionalString(body, 'custom_name');
    const events = optionalEvents(body);
    const webhook = store.create(company.account, {
      url,
      ...(customName === undefined ? {} : { customName }),
      ...(events === undefined ? {} : { events }),
    });
    return { status: 201, body: { webhook: serialize(webhook, origin) } };
  };

  const update = async (company: CompanyConfig, id: string, request: IncomingMessage, url: URL) => {
    const body = await readBody(request);
    const action = url.searchParams.get('events_action');
    if (action !== null && action !== 'add') throw new BadRequestError('events_action must be "add"');
    // The current name is always understood; `is_active` too when the simulator plays the older API.
    const active =
      optionalBoolean(body, 'active') ??
      (options.activeFieldName === 'is_active' ? optionalBoolean(body, 'is_active') : undefined);
    const webhookUrl = optionalString(body, 'url');
    const customName = optionalString(body, 'custom_name');
    const events = optionalEvents(body);
    const patch: WebhookPatch = {
      ...(webhookUrl === undefined ? {} : { url: webhookUrl }),
      ...(customName === undefined ? {} : { customName }),
      ...(events === undefined ? {} : { events }),
      ...(active === undefined ? {} : { active }),
    };
    const webhook = store.update(company.account, id, patch, {
      eventsAction: action === 'add' ? 'add' : 'replace',
      resetEventsWhenAbsent: options.resetEventsOnPutWithoutEvents,
    });
    return { status: 200, body: { webhook: serialize(webhook, url.origin) } };
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<Answer> => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
    const segments = url.pathname.split('/').filter((s) => s !== '');
    if (segments[0] !== 'v1') throw new NotFoundError(`no route ${url.pathname}`);
    const company = authenticate(request, store);
    const decision = limiter.take(company.account);
    rateHeaders(response, decision, options.resetUnit);
    if (!decision.allowed) throw new RateLimitedError(`${company.account} is over its rate limit`);

    const method = request.method ?? 'GET';
    const [, collection, id, ...rest] = segments;
    if (collection === 'ping' && id === undefined && method === 'GET') {
      return { status: 200, body: { ping: 'pong' } };
    }
    if (collection === 'calls' && id !== undefined && rest.length === 0 && method === 'GET') {
      const found = call(company.account, id);
      // Another company's call is answered exactly like a missing one.
      if (found === undefined) throw new NotFoundError(`no call ${id}`);
      return { status: 200, body: { call: found } };
    }
    const listing = collection === undefined ? undefined : lists.get(collection);
    if (listing !== undefined && id === undefined && method === 'GET') {
      return { status: 200, body: listing(company.account, url) };
    }
    if (collection === 'webhooks' && rest.length === 0) {
      if (id === undefined) {
        if (method === 'GET') return list(company, url);
        if (method === 'POST') return create(company, request, url.origin);
      } else {
        if (method === 'GET') {
          return { status: 200, body: { webhook: serialize(store.get(company.account, id), url.origin) } };
        }
        if (method === 'PUT') return update(company, id, request, url);
        if (method === 'DELETE') {
          store.delete(company.account, id);
          return { status: 204 };
        }
      }
    }
    throw new NotFoundError(`no route ${method} ${url.pathname}`);
  };

  return (request, response) => {
    route(request, response).then(
      (answer) => sendJson(response, answer),
      (error: unknown) => {
        // A body left unread would keep the connection busy; drain it before answering.
        request.resume();
        sendJson(response, errorAnswer(error));
      },
    );
  };
};
