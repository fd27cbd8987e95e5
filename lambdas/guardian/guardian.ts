// The guardian use case: for one Aircall account, keep the registry in step with the webhooks that point at this
// stack, and re-enable every one Aircall deactivated without changing what it subscribes to.

import { hashToken } from '../shared/token.js';
import type { AircallApi, AircallWebhook } from './aircall.js';
import type { WebhookRegistry, WebhookSnapshot } from './registry.js';

export interface GuardianDeps {
  readonly api: AircallApi;
  readonly registry: WebhookRegistry;
  /** The URL Aircall delivers to for this stack; webhooks pointing elsewhere are not ours. */
  readonly stackUrl: string;
  readonly now: () => number;
}

export type WebhookAction = 'active' | 'reenabled' | 'failed';

export interface WebhookOutcome {
  readonly webhookId: string;
  readonly customName: string;
  readonly events: readonly string[];
  readonly action: WebhookAction;
  readonly detail?: string;
}

export interface AccountReport {
  readonly account: string;
  /** False when the account's webhooks could not be listed; nothing was changed then. */
  readonly listed: boolean;
  readonly error?: string;
  readonly webhooks: readonly WebhookOutcome[];
  /** Webhook ids whose registry rows were removed because the webhook no longer points here. */
  readonly removed: readonly string[];
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Compares URLs as Aircall would deliver to them: scheme and host case-insensitive, no trailing slash. */
export const sameUrl = (a: string, b: string): boolean => {
  const normalize = (raw: string): string => {
    try {
      const url = new URL(raw);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
    } catch {
      return raw.trim();
    }
  };
  return normalize(a) === normalize(b);
};

export const sameEvents = (a: readonly string[], b: readonly string[]): boolean => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((event) => right.has(event));
};

const eventList = (events: readonly string[]): string =>
  events.length > 6 ? `${events.length} events` : events.join(', ');

/**
 * Re-enables one webhook and proves it: the PUT carries the webhook's current events (a PUT without them may
 * reset the subscription to all events), and a read-back must show it active with the same events. If the
 * read-back shows other events, one more PUT restores them; if that fails too, the outcome says so.
 */
const reenable = async (
  webhook: AircallWebhook,
  api: AircallApi,
): Promise<{ after: AircallWebhook; outcome: WebhookOutcome }> => {
  const base = { webhookId: webhook.webhookId, customName: webhook.customName };
  const current = await api.getWebhook(webhook.webhookId);
  if (current.active)
    return { after: current, outcome: { ...base, events: current.events, action: 'active' } };

  const wanted = current.events;
  await api.updateWebhook(webhook.webhookId, { active: true, events: wanted });
  let after = await api.getWebhook(webhook.webhookId);
  let detail = 'active again with its events unchanged';
  if (after.active && !sameEvents(after.events, wanted)) {
    const changed = eventList(after.events);
    await api.updateWebhook(webhook.webhookId, { active: true, events: wanted });
    after = await api.getWebhook(webhook.webhookId);
    detail = `events came back as ${changed}; restored`;
  }
  if (!after.active) {
    return {
      after,
      outcome: { ...base, events: wanted, action: 'failed', detail: 'still inactive after the update' },
    };
  }
  if (!sameEvents(after.events, wanted)) {
    return {
      after,
      outcome: {
        ...base,
        events: wanted,
        action: 'failed',
        detail: `events are ${eventList(after.events)}, expected ${eventList(wanted)}`,
      },
    };
  }
  return { after, outcome: { ...base, events: wanted, action: 'reenabled', detail } };
};

/** What the registry keeps of a webhook read from Aircall: its token only as a hash. */
export const snapshotOf = (account: string, webhook: AircallWebhook, syncedAt: number): WebhookSnapshot => ({
  tokenHash: hashToken(webhook.token),
  account,
  webhookId: webhook.webhookId,
  url: webhook.url,
  events: webhook.events,
  active: webhook.active,
  syncedAt,
});

export const guardAccount = async (account: string, deps: GuardianDeps): Promise<AccountReport> => {
  const passStartedAt = deps.now();
  let all: AircallWebhook[];
  try {
    all = await deps.api.listWebhooks();
  } catch (error) {
    return { account, listed: false, error: describe(error), webhooks: [], removed: [] };
  }
  const ours = all.filter((webhook) => sameUrl(webhook.url, deps.stackUrl));

  const outcomes: WebhookOutcome[] = [];
  for (const webhook of ours) {
    if (webhook.active) {
      await deps.registry.upsert(snapshotOf(account, webhook, deps.now()));
      outcomes.push({
        webhookId: webhook.webhookId,
        customName: webhook.customName,
        events: webhook.events,
        action: 'active',
      });
      continue;
    }
    const tokenHash = hashToken(webhook.token);
    try {
      const { after, outcome } = await reenable(webhook, deps.api);
      await deps.registry.upsert(snapshotOf(account, after, deps.now()));
      if (outcome.action !== 'active') {
        await deps.registry.recordReenable(tokenHash, {
          at: deps.now(),
          ok: outcome.action === 'reenabled',
          detail: outcome.detail ?? '',
        });
      }
      outcomes.push(outcome);
    } catch (error) {
      // The webhook is still registered (its token stays valid) even when Aircall could not be reached.
      await deps.registry.upsert(snapshotOf(account, webhook, deps.now()));
      await deps.registry.recordReenable(tokenHash, { at: deps.now(), ok: false, detail: describe(error) });
      outcomes.push({
        webhookId: webhook.webhookId,
        customName: webhook.customName,
        events: webhook.events,
        action: 'failed',
        detail: describe(error),
      });
    }
  }

  const kept = new Set(ours.map((webhook) => webhook.webhookId));
  const removed: string[] = [];
  for (const row of await deps.registry.listAccount(account)) {
    if (row.webhookId !== undefined && !kept.has(row.webhookId)) {
      if (await deps.registry.remove(row.tokenHash, passStartedAt)) removed.push(row.webhookId);
    }
  }
  return { account, listed: true, webhooks: outcomes, removed };
};

export interface GuardOptions {
  /** Time an account's pass may take before it is reported unfinished, so one slow account cannot hide the rest. */
  readonly timeoutMs?: number;
  /** Called with each account's report as soon as it is ready. */
  readonly onReport?: (report: AccountReport) => void;
}

const failed = (account: string, error: string): AccountReport => ({
  account,
  listed: false,
  error,
  webhooks: [],
  removed: [],
});

const withTimeout = async (work: Promise<AccountReport>, account: string, ms: number | undefined) => {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<AccountReport>((resolve) => {
    timer = setTimeout(
      () => resolve(failed(account, `did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
};

/** Guards every account at once; one account's failure, or slowness, never stops the others. */
export const guardAccounts = (
  accounts: readonly { readonly account: string; readonly deps: GuardianDeps }[],
  options: GuardOptions = {},
): Promise<AccountReport[]> =>
  Promise.all(
    accounts.map(async ({ account, deps }) => {
      const report = await withTimeout(
        guardAccount(account, deps).catch((error: unknown) => failed(account, describe(error))),
        account,
        options.timeoutMs,
      );
      options.onReport?.(report);
      return report;
    }),
  );

/** True when any webhook that should be active was left inactive, or an account could not be checked. */
export const needsAttention = (reports: readonly AccountReport[]): boolean =>
  reports.some((report) => !report.listed || report.webhooks.some((webhook) => webhook.action === 'failed'));
