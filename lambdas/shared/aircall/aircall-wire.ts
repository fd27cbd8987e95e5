// Aircall's JSON on the wire, for the guardian, the archive, reconcile and the CLI: answers parsed defensively into
// typed values, and the request bodies it expects.

import { parseJson as parseExactJson } from '../../../lib/definitions/json.js';
import { isJsonObject, type JsonObject } from '../envelope.js';
import {
  AircallApiError,
  type AircallWebhook,
  type ListedPage,
  type NewWebhook,
  type WebhookChanges,
} from './aircall.js';

type WireObject = Record<string, unknown>;

const isObject = (value: unknown): value is WireObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Messages name the field only, never its value: the object holds the webhook's token.
const unexpected = (label: string, status: number, what: string): AircallApiError =>
  new AircallApiError(`Aircall answered ${label} with an unexpected shape: ${what}`, status);

/** JSON.parse without its own error as cause: a SyntaxError quotes the body, and the body may hold tokens. */
export const parseJson = (text: string, label: string, status: number): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new AircallApiError(`Aircall answered ${label} with a body that is not JSON`, status);
  }
};

/**
 * The body of a read: integers beyond 2^53 become ExactIntegers, so call, user and contact ids stay the ones Aircall
 * sent. No cause kept, as in parseJson.
 */
export const parseReadJson = (text: string, label: string, status: number): unknown => {
  try {
    return parseExactJson(text);
  } catch {
    throw new AircallApiError(`Aircall answered ${label} with a body that is not JSON`, status);
  }
};

const toWebhookId = (value: unknown): string | undefined => {
  if (typeof value === 'string' && value !== '') return value;
  // Legacy ids are numbers; beyond 2^53 the number is already wrong, so refuse it rather than guess.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
};

const toActive = (value: WireObject): boolean | undefined => {
  // The current API writes `active`; the older tutorial `is_active`. Only fall back when `active` is absent.
  if (value.active !== undefined && value.active !== null)
    return typeof value.active === 'boolean' ? value.active : undefined;
  return typeof value.is_active === 'boolean' ? value.is_active : undefined;
};

const toEvents = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((event): event is string => typeof event === 'string')
    ? [...value]
    : undefined;

/** One webhook object; `where` names it in messages (`webhook`, `webhooks[3]`). */
export const parseWebhook = (
  value: unknown,
  label: string,
  status: number,
  where: string,
): AircallWebhook => {
  if (!isObject(value)) throw unexpected(label, status, `${where} is not an object`);
  const webhookId = toWebhookId(value.webhook_id);
  if (webhookId === undefined) throw unexpected(label, status, `${where}.webhook_id is missing or invalid`);
  if (typeof value.url !== 'string' || value.url === '')
    throw unexpected(label, status, `${where}.url is not a string`);
  const active = toActive(value);
  if (active === undefined) throw unexpected(label, status, `${where}.active is not a boolean`);
  // Guessing the subscription would let a re-enable overwrite it, so an unreadable list is an error.
  const events = toEvents(value.events);
  if (events === undefined) throw unexpected(label, status, `${where}.events is not a list of names`);
  if (typeof value.token !== 'string' || value.token === '')
    throw unexpected(label, status, `${where}.token is not a string`);
  return {
    webhookId,
    url: value.url,
    // The name is cosmetic: Aircall's own default stands in for a missing or odd one.
    customName: typeof value.custom_name === 'string' ? value.custom_name : 'Webhook',
    active,
    events,
    token: value.token,
    ...(typeof value.created_at === 'string' ? { createdAt: value.created_at } : {}),
  };
};

/** `{"webhook": {...}}`, the answer of get, create and update. */
export const parseWebhookAnswer = (body: unknown, label: string, status: number): AircallWebhook => {
  if (!isObject(body)) throw unexpected(label, status, 'the body is not an object');
  return parseWebhook(body.webhook, label, status, 'webhook');
};

export interface WebhookPage {
  readonly webhooks: AircallWebhook[];
  /** Absent on the last page. */
  readonly nextPageLink?: string;
  /** `meta.total`, the company's webhook count as this page saw it, when the answer gives one. */
  readonly total?: number;
}

/** `{"webhooks": [...], "meta": {"next_page_link": ...}}`, one page of the list. */
export const parseWebhookPage = (body: unknown, label: string, status: number): WebhookPage => {
  if (!isObject(body)) throw unexpected(label, status, 'the body is not an object');
  if (!Array.isArray(body.webhooks)) throw unexpected(label, status, 'webhooks is not a list');
  const webhooks = body.webhooks.map((item, index) =>
    parseWebhook(item, label, status, `webhooks[${index}]`),
  );
  // No meta at all reads as a single page; a link of the wrong type could hide webhooks, so it is an error.
  if (body.meta === undefined || body.meta === null) return { webhooks };
  if (!isObject(body.meta)) throw unexpected(label, status, 'meta is not an object');
  const { total: rawTotal, next_page_link: link } = body.meta;
  // A total that is not a count says nothing; it is left out rather than trusted.
  const total =
    typeof rawTotal === 'number' && Number.isSafeInteger(rawTotal) && rawTotal >= 0
      ? { total: rawTotal }
      : {};
  if (link === undefined || link === null || link === '') return { webhooks, ...total };
  if (typeof link !== 'string') throw unexpected(label, status, 'meta.next_page_link is not a string');
  return { webhooks, nextPageLink: link, ...total };
};

const toPositiveInteger = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;

/** The listed resource a page holds: the key of its items in the answer. */
export type ListedResource = 'calls' | 'users' | 'numbers' | 'contacts';

/**
 * `{"<resource>": [...], "meta": {...}}`, one page of a listing. `requested` is the URL asked for: its `page` and
 * `per_page` stand in for a meta that lacks them.
 */
export const parseListedPage = (
  body: unknown,
  resource: ListedResource,
  requested: URL,
  label: string,
  status: number,
): ListedPage => {
  if (!isObject(body)) throw unexpected(label, status, 'the body is not an object');
  const list = body[resource];
  if (!Array.isArray(list)) throw unexpected(label, status, `${resource} is not a list`);
  const items = list.map((item: unknown, index): JsonObject => {
    // A checkpointed listing that skipped an unreadable item would never read it again.
    if (!isJsonObject(item)) throw unexpected(label, status, `${resource}[${index}] is not an object`);
    return item;
  });
  const asked = {
    page: toPositiveInteger(Number(requested.searchParams.get('page') ?? '1')) ?? 1,
    perPage: toPositiveInteger(Number(requested.searchParams.get('per_page'))),
  };
  const meta = body.meta ?? {};
  if (!isObject(meta)) throw unexpected(label, status, 'meta is not an object');
  const link = meta.next_page_link;
  // A link of the wrong type could end the listing early, so it is an error rather than an end.
  if (link !== undefined && link !== null && typeof link !== 'string')
    throw unexpected(label, status, 'meta.next_page_link is not a string');
  const perPage = toPositiveInteger(meta.per_page) ?? asked.perPage;
  if (perPage === undefined) throw unexpected(label, status, 'meta.per_page is missing');
  const total = meta.total;
  return {
    items,
    total: typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? total : undefined,
    page: toPositiveInteger(meta.current_page) ?? asked.page,
    perPage,
    nextPageLink: typeof link === 'string' && link !== '' ? link : null,
  };
};

/** `{"call": {...}}`, the answer of GET /v1/calls/:id. */
export const parseCallAnswer = (body: unknown, label: string, status: number): JsonObject => {
  if (!isJsonObject(body) || !isJsonObject(body.call))
    throw unexpected(label, status, 'call is not an object');
  return body.call;
};

const MAX_DETAIL_CHARS = 200;

const clip = (text: string): string =>
  text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}...` : text;

/** The `error` and `troubleshoot` texts of an error answer, or undefined when it has neither. */
export const errorDetail = (text: string): string | undefined => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(body)) return undefined;
  const parts = [body.error, body.troubleshoot].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return parts.length === 0 ? undefined : parts.map(clip).join(': ');
};

export const toCreateBody = (webhook: NewWebhook): WireObject => ({
  url: webhook.url,
  ...(webhook.customName === undefined ? {} : { custom_name: webhook.customName }),
  ...(webhook.events === undefined ? {} : { events: [...webhook.events] }),
});

/** Only the fields given; the flag goes out as `active`, the current name, never `is_active`. */
export const toUpdateBody = (changes: WebhookChanges): WireObject => ({
  ...(changes.url === undefined ? {} : { url: changes.url }),
  ...(changes.customName === undefined ? {} : { custom_name: changes.customName }),
  ...(changes.events === undefined ? {} : { events: [...changes.events] }),
  ...(changes.active === undefined ? {} : { active: changes.active }),
});
