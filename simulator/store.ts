// The companies and their webhooks: the state the API reads and writes and the delivery engine follows.

import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestError, NotFoundError, UnknownCompanyError } from './errors.js';
import { ALL_EVENTS, isKnownEvent } from './events.js';

export interface CompanyConfig {
  readonly account: string;
  readonly apiId: string;
  readonly apiToken: string;
  /** Accepted as `Authorization: Bearer <accessToken>`, as for an OAuth-installed company. */
  readonly accessToken?: string;
}

export interface Webhook {
  readonly webhookId: string;
  readonly account: string;
  readonly url: string;
  readonly customName: string;
  readonly active: boolean;
  /** The shared secret sent in every delivery. */
  readonly token: string;
  readonly events: readonly string[];
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface NewWebhookInput {
  readonly url: string;
  readonly customName?: string;
  readonly events?: readonly string[];
}

export interface WebhookPatch {
  readonly url?: string;
  readonly customName?: string;
  readonly events?: readonly string[];
  readonly active?: boolean;
}

export interface UpdateMode {
  /** `add` merges the given events into the current ones instead of replacing them. */
  readonly eventsAction: 'replace' | 'add';
  /** Aircall's pitfall: a PUT whose body has no `events` subscribes the webhook to all events again. */
  readonly resetEventsWhenAbsent: boolean;
}

export type WebhookChange =
  | { readonly kind: 'activated'; readonly webhook: Webhook }
  | { readonly kind: 'deactivated'; readonly webhook: Webhook }
  | { readonly kind: 'deleted'; readonly webhook: Webhook };

export const MAX_WEBHOOKS_PER_COMPANY = 100;

/** Which hosts webhooks may point at: `deliverable` decides, unless `anywhere`. */
export interface DeliveryScope {
  readonly anywhere: boolean;
  /** True for a host name the simulator may deliver to when not `anywhere`. */
  readonly deliverable: (hostname: string) => boolean;
  /** Says where deliveries may go, in the refusal of another URL. */
  readonly description: string;
}

const checkUrl = (url: string, scope: DeliveryScope): string => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new BadRequestError('url is not a valid URL', { cause: error });
  }
  // Aircall itself insists on HTTPS; local receivers speak plain HTTP, so both are taken here.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new BadRequestError('url must be an http(s) URL');
  }
  // Whoever reaches the API could otherwise make the simulator post tokens and payloads to any host.
  if (!scope.anywhere && !scope.deliverable(parsed.hostname)) {
    throw new BadRequestError(`url must point at ${scope.description}`);
  }
  return url;
};

const checkEvents = (events: readonly string[]): string[] => {
  if (events.length === 0) throw new BadRequestError('events must name at least one event');
  const unknown = events.filter((name) => !isKnownEvent(name));
  if (unknown.length > 0) throw new BadRequestError(`unknown events: ${unknown.join(', ')}`);
  return [...new Set(events)];
};

export class WebhookStore {
  private readonly companiesByAccount = new Map<string, CompanyConfig>();
  /** Insertion order is creation order, which is the order lists are paged in. */
  private readonly webhooks = new Map<string, Webhook>();
  private readonly listeners: ((change: WebhookChange) => void)[] = [];

  constructor(
    companies: readonly CompanyConfig[],
    private readonly scope: DeliveryScope,
  ) {
    for (const company of companies) this.companiesByAccount.set(company.account, company);
  }

  companies(): CompanyConfig[] {
    return [...this.companiesByAccount.values()];
  }

  company(account: string): CompanyConfig {
    const company = this.companiesByAccount.get(account);
    if (company === undefined) throw new UnknownCompanyError(`no company "${account}" in the simulator`);
    return company;
  }

  companyByBasic(apiId: string, apiToken: string): CompanyConfig | undefined {
    return this.companies().find((c) => c.apiId === apiId && c.apiToken === apiToken);
  }

  companyByAccessToken(accessToken: string): CompanyConfig | undefined {
    return this.companies().find((c) => c.accessToken !== undefined && c.accessToken === accessToken);
  }

  onChange(listener: (change: WebhookChange) => void): void {
    this.listeners.push(listener);
  }

  list(account: string): Webhook[] {
    return [...this.webhooks.values()].filter((w) => w.account === account);
  }

  /** Any company's webhook, for the delivery engine; undefined once deleted. */
  byId(webhookId: string): Webhook | undefined {
    return this.webhooks.get(webhookId);
  }

  get(account: string, webhookId: string): Webhook {
    const webhook = this.webhooks.get(webhookId);
    // Another company's webhook is answered exactly like a missing one, so ids leak nothing.
    if (webhook === undefined || webhook.account !== account) {
      throw new NotFoundError(`no webhook ${webhookId}`);
    }
    return webhook;
  }

  create(account: string, input: NewWebhookInput): Webhook {
    this.company(account);
    if (this.list(account).length >= MAX_WEBHOOKS_PER_COMPANY) {
      throw new BadRequestError(`a company may have at most ${MAX_WEBHOOKS_PER_COMPANY} webhooks`);
    }
    const webhook: Webhook = {
      webhookId: randomUUID(),
      account,
      url: checkUrl(input.url, this.scope),
      customName: input.customName ?? 'Webhook',
      active: true,
      token: randomBytes(16).toString('hex'),
      events: input.events === undefined ? [...ALL_EVENTS] : checkEvents(input.events),
      createdAt: new Date().toISOString(),
    };
    this.webhooks.set(webhook.webhookId, webhook);
    return webhook;
  }

  update(account: string, webhookId: string, patch: WebhookPatch, mode: UpdateMode): Webhook {
    const current = this.get(account, webhookId);
    let events: readonly string[] = current.events;
    if (patch.events !== undefined) {
      const given = checkEvents(patch.events);
      events = mode.eventsAction === 'add' ? [...new Set([...current.events, ...given])] : given;
    } else if (mode.eventsAction === 'replace' && mode.resetEventsWhenAbsent) {
      events = [...ALL_EVENTS];
    }
    const updated: Webhook = {
      ...current,
      url: patch.url === undefined ? current.url : checkUrl(patch.url, this.scope),
      customName: patch.customName ?? current.customName,
      active: patch.active ?? current.active,
      events,
    };
    this.webhooks.set(webhookId, updated);
    this.announceActivity(current, updated);
    return updated;
  }

  /** What Aircall does after too many failed deliveries. */
  deactivate(webhookId: string): void {
    const current = this.webhooks.get(webhookId);
    if (current === undefined || !current.active) return;
    const updated = { ...current, active: false };
    this.webhooks.set(webhookId, updated);
    this.announceActivity(current, updated);
  }

  delete(account: string, webhookId: string): void {
    const webhook = this.get(account, webhookId);
    this.webhooks.delete(webhookId);
    this.emit({ kind: 'deleted', webhook });
  }

  private announceActivity(before: Webhook, after: Webhook): void {
    if (before.active === after.active) return;
    this.emit({ kind: after.active ? 'activated' : 'deactivated', webhook: after });
  }

  private emit(change: WebhookChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
