// The guardian use case: for one Aircall account, keep the registry in step with the webhooks that point at this
// stack, and re-enable every one Aircall deactivated without changing what it subscribes to.

import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import type { AircallApi, AircallWebhook, WebhookListing } from '../shared/aircall/aircall.js';
import { hashToken } from '../shared/token.js';
import {
  type RegisteredWebhook,
  SYNCED_SOURCE,
  type WebhookRegistry,
  type WebhookSnapshot,
} from './registry.js';

export interface GuardianDeps {
  readonly api: AircallApi;
  readonly registry: WebhookRegistry;
  /** Every URL Aircall may deliver to for this stack (its API's and any custom domain's); webhooks pointing elsewhere are not ours. */
  readonly stackUrls: readonly string[];
  readonly now: () => number;
  /**
   * Complete listings in a row that must lack a webhook before its row is removed, so one odd answer from Aircall
   * never revokes a token that works.
   * @default GUARDIAN.removeAfterMissingPasses (3)
   */
  readonly removeAfterMissingPasses?: number;
  /**
   * Whether this pass may count a registered webhook as absent. False when it knows only some of the stack's URLs
   * (a CLI pass with --webhook-url): a webhook at another of them would look absent, and be counted towards removal.
   * @default true
   */
  readonly countAbsences?: boolean;
}

export interface PassOptions {
  /** Aborted when the pass is out of time: it then writes nothing more, since its listing is no longer current. */
  readonly signal?: AbortSignal;
}

export type WebhookAction = 'active' | 'reenabled' | 'failed';

export interface WebhookOutcome {
  readonly webhookId: string;
  readonly customName: string;
  readonly events: readonly string[];
  readonly action: WebhookAction;
  readonly detail?: string;
}

/** A registry row whose webhook this complete listing lacked, kept until its absence has lasted enough passes. */
export interface MissingWebhook {
  readonly webhookId: string;
  /** Complete listings in a row that lacked it, this one included. */
  readonly passes: number;
}

export interface AccountReport {
  readonly account: string;
  /** False when the account's webhooks could not be listed; nothing was changed then. */
  readonly listed: boolean;
  readonly error?: string;
  /** Set when the listing may lack webhooks: absences were not counted, so no row lost ground. */
  readonly incomplete?: string;
  readonly webhooks: readonly WebhookOutcome[];
  readonly missing: readonly MissingWebhook[];
  /** Webhook ids whose registry rows were removed because the webhook no longer points here. */
  readonly removed: readonly string[];
  /** Rows the account holds once the pass is done, of every source; absent when the account was not listed. */
  readonly registered?: number;
  /** Set when the pass's time ran out: it was stopped, and wrote nothing after that. */
  readonly unfinished?: true;
}

/** The reason a pass stops writing: its time ran out while it was still at work. */
export class PassTimedOutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PassTimedOutError';
  }
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

/** A row the guardian wrote from Aircall's own answer; any other row (a hand-registered token) it never touches. */
const isSynced = (row: RegisteredWebhook): row is RegisteredWebhook & { readonly webhookId: string } =>
  row.webhookId !== undefined && row.source === SYNCED_SOURCE;

/** Why a listing cannot prove an absence, or undefined when it can. */
const whyIncomplete = (listing: WebhookListing, syncedRows: number): string | undefined => {
  if (listing.incomplete !== undefined) return listing.incomplete;
  // Aircall answering an empty list for a company whose webhooks we synced is more likely a glitch than the truth.
  if (listing.webhooks.length === 0 && syncedRows > 0)
    return `Aircall listed no webhook while the registry holds ${syncedRows} synced row(s)`;
  return undefined;
};

const notListed = (account: string, error: string): AccountReport => ({
  account,
  listed: false,
  error,
  webhooks: [],
  missing: [],
  removed: [],
});

export const guardAccount = async (
  account: string,
  deps: GuardianDeps,
  { signal }: PassOptions = {},
): Promise<AccountReport> => {
  const passStartedAt = deps.now();
  const removeAfter = deps.removeAfterMissingPasses ?? GUARDIAN.removeAfterMissingPasses;
  let listing: WebhookListing;
  try {
    listing = await deps.api.listWebhooks();
  } catch (error) {
    return notListed(account, describe(error));
  }
  const ours = listing.webhooks.filter((webhook) => deps.stackUrls.some((url) => sameUrl(webhook.url, url)));

  const outcomes: WebhookOutcome[] = [];
  for (const webhook of ours) {
    signal?.throwIfAborted();
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
      const synced = await deps.registry.upsert(snapshotOf(account, after, deps.now()));
      // A hand-registered row keeps no history of ours either.
      if (synced && outcome.action !== 'active') {
        await deps.registry.recordReenable(tokenHash, {
          at: deps.now(),
          ok: outcome.action === 'reenabled',
          detail: outcome.detail ?? '',
        });
      }
      outcomes.push(outcome);
    } catch (error) {
      // The webhook is still registered (its token stays valid) even when Aircall could not be reached.
      if (await deps.registry.upsert(snapshotOf(account, webhook, deps.now())))
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

  signal?.throwIfAborted();
  const rows = await deps.registry.listAccount(account);
  const seen = new Set(ours.map((webhook) => webhook.webhookId));
  const synced = rows.filter(isSynced);
  const incomplete = whyIncomplete(listing, synced.length);
  const missing: MissingWebhook[] = [];
  const removed: string[] = [];
  // Only a complete listing counts an absence, and each row moves one step at most per pass, under a guard that
  // leaves it alone if anyone wrote it since this pass began.
  for (const row of incomplete === undefined && deps.countAbsences !== false ? synced : []) {
    if (seen.has(row.webhookId)) continue;
    signal?.throwIfAborted();
    const guard = { missingPasses: row.missingPasses, syncedBefore: passStartedAt };
    const passes = row.missingPasses + 1;
    if (passes >= removeAfter) {
      if (await deps.registry.removeMissing(row.tokenHash, guard)) removed.push(row.webhookId);
    } else if (await deps.registry.countMissing(row.tokenHash, guard, deps.now())) {
      missing.push({ webhookId: row.webhookId, passes });
    }
  }
  return {
    account,
    listed: true,
    ...(incomplete === undefined ? {} : { incomplete }),
    webhooks: outcomes,
    missing,
    removed,
    registered: rows.length - removed.length,
  };
};

export interface GuardOptions {
  /** Time an account's pass may take before it is reported unfinished, so one slow account cannot hide the rest. */
  readonly timeoutMs?: number;
  /** Called with each account's report as soon as it is ready. */
  readonly onReport?: (report: AccountReport) => void;
}

/** Runs one account's pass, reporting it unfinished after `ms`, and then stopping it before its next write. */
const withTimeout = async (
  account: string,
  pass: (options: PassOptions) => Promise<AccountReport>,
  ms: number | undefined,
): Promise<AccountReport> => {
  if (ms === undefined) return pass({});
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<AccountReport>((resolve) => {
    timer = setTimeout(() => {
      const reason = `did not finish within ${Math.round(ms / 1000)} s`;
      // On Lambda the abandoned pass may resume in a later invocation: aborted, it writes nothing from its stale listing.
      controller.abort(new PassTimedOutError(reason));
      resolve({ ...notListed(account, reason), unfinished: true });
    }, ms);
  });
  try {
    return await Promise.race([pass({ signal: controller.signal }), late]);
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
        account,
        (pass) =>
          guardAccount(account, deps, pass).catch((error: unknown) => notListed(account, describe(error))),
        options.timeoutMs,
      );
      options.onReport?.(report);
      return report;
    }),
  );

/** True when any webhook that should be active was left inactive, or an account could not be checked. */
export const needsAttention = (reports: readonly AccountReport[]): boolean =>
  reports.some((report) => !report.listed || report.webhooks.some((webhook) => webhook.action === 'failed'));
