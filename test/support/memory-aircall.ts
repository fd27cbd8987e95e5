// In-memory fakes for the guardian: an Aircall account's webhooks behind the AircallApi port, and the registry.

import { randomUUID } from 'node:crypto';
import {
  type AircallApi,
  AircallNotFoundError,
  type AircallWebhook,
  type NewWebhook,
  type WebhookChanges,
} from '../../lambdas/guardian/aircall.js';
import type {
  ReenableRecord,
  RegisteredWebhook,
  WebhookRegistry,
  WebhookSnapshot,
} from '../../lambdas/guardian/registry.js';

export const ALL_EVENTS = ['call.created', 'call.ended', 'user.connected', 'contact.created'] as const;

export interface MemoryAircallOptions {
  /** What a PUT does to the events: keep what it was given, or reset them to all (the pitfall), or ignore it. */
  readonly onPut?: 'keep' | 'reset-to-all' | 'ignore-active';
}

export class MemoryAircall implements AircallApi {
  readonly webhooks = new Map<string, AircallWebhook>();
  readonly calls: string[] = [];
  failList = false;

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

  async listWebhooks(): Promise<AircallWebhook[]> {
    this.calls.push('list');
    if (this.failList) throw new Error('list failed');
    return [...this.webhooks.values()];
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

export class MemoryRegistry implements WebhookRegistry {
  readonly rows = new Map<
    string,
    Partial<WebhookSnapshot> & RegisteredWebhook & { reenables?: ReenableRecord[] }
  >();

  async upsert(snapshot: WebhookSnapshot): Promise<void> {
    this.rows.set(snapshot.tokenHash, { ...this.rows.get(snapshot.tokenHash), ...snapshot });
  }

  async recordReenable(tokenHash: string, record: ReenableRecord): Promise<void> {
    const row = this.rows.get(tokenHash);
    if (row === undefined) throw new Error('no such row');
    this.rows.set(tokenHash, { ...row, reenables: [...(row.reenables ?? []), record] });
  }

  async listAccount(account: string): Promise<RegisteredWebhook[]> {
    return [...this.rows.values()].filter((row) => row.account === account);
  }

  async remove(tokenHash: string, syncedBefore?: number): Promise<boolean> {
    const syncedAt = this.rows.get(tokenHash)?.syncedAt;
    if (syncedBefore !== undefined && syncedAt !== undefined && syncedAt >= syncedBefore) return false;
    this.rows.delete(tokenHash);
    return true;
  }
}
