// In-memory fakes for the guardian: an Aircall account's webhooks behind the AircallApi port, and the registry.

import { randomUUID } from 'node:crypto';
import {
  type AbsenceGuard,
  type ReenableRecord,
  type RegisteredWebhook,
  SYNCED_SOURCE,
  type WebhookRegistry,
  type WebhookSnapshot,
} from '../../lambdas/guardian/registry.js';
import {
  type AircallApi,
  AircallNotFoundError,
  type AircallWebhook,
  type NewWebhook,
  type WebhookChanges,
  type WebhookListing,
} from '../../lambdas/shared/aircall/aircall.js';

export const ALL_EVENTS = ['call.created', 'call.ended', 'user.connected', 'contact.created'] as const;

export interface MemoryAircallOptions {
  /** What a PUT does to the events: keep what it was given, or reset them to all (the pitfall), or ignore it. */
  readonly onPut?: 'keep' | 'reset-to-all' | 'ignore-active';
}

export class MemoryAircall implements AircallApi {
  readonly webhooks = new Map<string, AircallWebhook>();
  readonly calls: string[] = [];
  failList = false;
  /** Set to answer listings with this `incomplete` reason, as the client does when pages disagree. */
  incompleteList: string | undefined;

  constructor(private readonly options: MemoryAircallOptions = {}) {}

  add(webhook: Partial<AircallWebhook> & { url: string }): AircallWebhook {
    const full: AircallWebhook = {
      webhookId: randomUUID(),
      customName: 'Webhook',
      active: true,
      events: [...ALL_EVENTS],
      token: randomUUID().replaceAll('-', ''),
      ...webhook,
    };
    this.webhooks.set(full.webhookId, full);
    return full;
  }

  async listWebhooks(): Promise<WebhookListing> {
    this.calls.push('list');
    if (this.failList) throw new Error('list failed');
    const webhooks = [...this.webhooks.values()];
    return this.incompleteList === undefined ? { webhooks } : { webhooks, incomplete: this.incompleteList };
  }

  async getWebhook(webhookId: string): Promise<AircallWebhook> {
    this.calls.push(`get ${webhookId}`);
    const webhook = this.webhooks.get(webhookId);
    if (webhook === undefined) throw new AircallNotFoundError('no such webhook', 404);
    return webhook;
  }

  async createWebhook(webhook: NewWebhook): Promise<AircallWebhook> {
    this.calls.push('create');
    return this.add({
      url: webhook.url,
      customName: webhook.customName ?? 'Webhook',
      events: webhook.events ?? [...ALL_EVENTS],
    });
  }

  async updateWebhook(webhookId: string, changes: WebhookChanges): Promise<AircallWebhook> {
    this.calls.push(`put ${webhookId} ${JSON.stringify(changes)}`);
    const current = await this.getWebhook(webhookId);
    const mode = this.options.onPut ?? 'keep';
    const events = mode === 'reset-to-all' || changes.events === undefined ? [...ALL_EVENTS] : changes.events;
    const active = mode === 'ignore-active' ? current.active : (changes.active ?? current.active);
    const next = { ...current, ...changes, events, active };
    this.webhooks.set(webhookId, next);
    return next;
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    this.calls.push(`delete ${webhookId}`);
    this.webhooks.delete(webhookId);
  }
}

type Row = Partial<WebhookSnapshot> &
  Omit<RegisteredWebhook, 'missingPasses'> & { missingPasses?: number; reenables?: ReenableRecord[] };

/** The registry in a Map, with the same guards as the DynamoDB conditions. */
export class MemoryRegistry implements WebhookRegistry {
  readonly rows = new Map<string, Row>();

  /** A row as the guardian or the CLI writes it from an Aircall webhook. */
  seedSynced(row: { tokenHash: string; account: string; webhookId: string; missingPasses?: number }): void {
    this.rows.set(row.tokenHash, { source: SYNCED_SOURCE, syncedAt: 0, ...row });
  }

  async upsert(snapshot: WebhookSnapshot): Promise<boolean> {
    const row = this.rows.get(snapshot.tokenHash);
    if (row !== undefined && row.source !== SYNCED_SOURCE) return false;
    this.rows.set(snapshot.tokenHash, { ...row, ...snapshot, source: SYNCED_SOURCE, missingPasses: 0 });
    return true;
  }

  async recordReenable(tokenHash: string, record: ReenableRecord): Promise<void> {
    const row = this.rows.get(tokenHash);
    if (row === undefined || row.source !== SYNCED_SOURCE) throw new Error('no synced row');
    this.rows.set(tokenHash, { ...row, reenables: [...(row.reenables ?? []), record] });
  }

  async listAccount(account: string): Promise<RegisteredWebhook[]> {
    return [...this.rows.values()]
      .filter((row) => row.account === account)
      .map(({ tokenHash, webhookId, source, missingPasses }) => ({
        tokenHash,
        account,
        ...(webhookId === undefined ? {} : { webhookId }),
        ...(source === undefined ? {} : { source }),
        missingPasses: missingPasses ?? 0,
      }));
  }

  private guarded(tokenHash: string, guard: AbsenceGuard): Row | undefined {
    const row = this.rows.get(tokenHash);
    if (row === undefined || row.source !== SYNCED_SOURCE || row.webhookId === undefined) return undefined;
    if (row.syncedAt !== undefined && row.syncedAt >= guard.syncedBefore) return undefined;
    return (row.missingPasses ?? 0) === guard.missingPasses ? row : undefined;
  }

  async countMissing(tokenHash: string, guard: AbsenceGuard): Promise<boolean> {
    const row = this.guarded(tokenHash, guard);
    if (row === undefined) return false;
    this.rows.set(tokenHash, { ...row, missingPasses: guard.missingPasses + 1 });
    return true;
  }

  async removeMissing(tokenHash: string, guard: AbsenceGuard): Promise<boolean> {
    if (this.guarded(tokenHash, guard) === undefined) return false;
    this.rows.delete(tokenHash);
    return true;
  }

  async remove(tokenHash: string): Promise<void> {
    this.rows.delete(tokenHash);
  }
}
