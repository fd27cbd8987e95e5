// Delivers generated events to the company's active, subscribed webhooks the way Aircall does: POST, 5 s, retries for a while, deactivation, duplicates, disorder.

import http from 'node:http';
import https from 'node:https';
import { deliveryBody, type GeneratedEvent } from './envelope.js';
import { DeliveryTimeoutError } from './errors.js';
import type { JsonValue } from './json.js';
import type { Random } from './random.js';
import type { Webhook, WebhookChange, WebhookStore } from './store.js';

export interface DeliveryOptions {
  /** Aircall waits 5 s for an answer. */
  readonly timeoutMs: number;
  /** Consecutive failed deliveries after which the webhook is deactivated. */
  readonly deactivateAfterFailures: number;
  /** First retry delay of a failed event; doubles per attempt, capped at 32 times this. */
  readonly retryDelayMs: number;
  /**
   * Milliseconds on `now` after an event is queued past which it is given up on rather than tried again: Aircall
   * retries failed events for about 12 hours.
   */
  readonly retryWindowMs: number;
  /** Chance that a delivered event is sent once more, as Aircall's at-least-once delivery does. */
  readonly duplicateRate: number;
  /** The next event sent is picked at random among this many ready ones: 1 keeps the order. */
  readonly shuffleWindow: number;
  /** Requests in flight at once per webhook. */
  readonly concurrency: number;
  readonly random: Random;
  /**
   * Stamps `firstDeliveredAt` and measures the retry window, on the clock the traffic is placed by; retry timers
   * keep to real time.
   */
  readonly now: () => number;
}

/** One distinct event a webhook answered 2xx to. */
export interface DeliveredEvent {
  readonly key: string;
  readonly resource: string;
  readonly event: string;
  /** `data.id` of the event. */
  readonly id: JsonValue;
  readonly timestamp: number;
  readonly digest: string;
  /** Epoch ms of the first 2xx answer, on the simulator's clock. */
  readonly firstDeliveredAt: number;
  /** 2xx answers for this event: more than one after a duplicate or a retry of a timed-out request. */
  deliveries: number;
}

/** One distinct event given up on: never answered 2xx by the webhook within the retry window. */
export interface AbandonedEvent {
  readonly key: string;
  readonly resource: string;
  readonly event: string;
  /** `data.id` of the event. */
  readonly id: JsonValue;
  readonly timestamp: number;
  readonly digest: string;
  /** Failed attempts made before giving up; 0 when it waited on an inactive webhook all along. */
  readonly attempts: number;
  /** Why its last attempt failed; undefined when none was made. */
  readonly lastFailure: string | undefined;
  /** Epoch ms it was given up at, on the simulator's clock. */
  readonly abandonedAt: number;
}

export interface WebhookDeliveryStats {
  readonly webhookId: string;
  readonly account: string;
  readonly active: boolean;
  readonly deleted: boolean;
  /** Distinct events answered 2xx. */
  readonly delivered: number;
  /** Every 2xx answer, duplicates included. */
  readonly deliveries: number;
  /** 2xx answers for an event already delivered. */
  readonly duplicates: number;
  readonly attempts: number;
  /** Non-2xx answers, timeouts and connection errors. */
  readonly failures: number;
  readonly consecutiveFailures: number;
  /** Queued or in flight. */
  readonly pending: number;
  /** Times the engine deactivated the webhook after too many failures. */
  readonly deactivations: number;
  /** Events not queued because the webhook was inactive when they happened. */
  readonly skippedInactive: number;
  /** Distinct events given up on once their retry window was over, never delivered. */
  readonly abandoned: number;
  /** Why the last failed attempt failed (`status 500`, `timeout`, a connection error). */
  readonly lastFailure: string | undefined;
}

interface Pending {
  readonly event: GeneratedEvent;
  readonly duplicate: boolean;
  attempts: number;
  /** Epoch ms before which it is not retried. */
  notBefore: number;
  /** Epoch ms on the simulator's clock it was queued at, where its retry window starts. */
  readonly queuedAt: number;
  lastFailure?: string;
}

interface Lane {
  readonly webhookId: string;
  readonly account: string;
  queue: Pending[];
  readonly inFlight: Set<http.ClientRequest>;
  readonly deliveredByKey: Map<string, DeliveredEvent>;
  readonly abandonedByKey: Map<string, AbandonedEvent>;
  consecutiveFailures: number;
  deliveries: number;
  duplicates: number;
  attempts: number;
  failures: number;
  deactivations: number;
  skippedInactive: number;
  lastFailure: string | undefined;
  deleted: boolean;
  pumpScheduled: boolean;
  timer: NodeJS.Timeout | undefined;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const MAX_BACKOFF_FACTOR = 32;

export class DeliveryEngine {
  private readonly lanes = new Map<string, Lane>();
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private stopped = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly options: DeliveryOptions,
  ) {
    store.onChange((change) => this.follow(change));
  }

  /** Queues the event for every active webhook of its company subscribed to it; returns how many. */
  enqueue(event: GeneratedEvent): number {
    let queued = 0;
    for (const webhook of this.store.list(event.account)) {
      if (!webhook.events.includes(event.event)) continue;
      const lane = this.lane(webhook);
      // Aircall sends nothing to an inactive webhook: what happens meanwhile is never delivered to it.
      if (!webhook.active) {
        lane.skippedInactive += 1;
        continue;
      }
      lane.queue.push({ event, duplicate: false, attempts: 0, notBefore: 0, queuedAt: this.options.now() });
      queued += 1;
      this.schedule(lane);
    }
    return queued;
  }

  /** True when no webhook has anything in flight, and each one's queue is empty or waits for reactivation. */
  isSettled(): boolean {
    for (const lane of this.lanes.values()) {
      this.expire(lane);
      if (lane.inFlight.size > 0) return false;
      if (lane.queue.length > 0 && this.store.byId(lane.webhookId)?.active === true) return false;
    }
    return true;
  }

  delivered(webhookId: string): DeliveredEvent[] {
    return [...(this.lanes.get(webhookId)?.deliveredByKey.values() ?? [])].map((d) => ({ ...d }));
  }

  /** The distinct events given up on, in the order they were. */
  abandoned(webhookId: string): AbandonedEvent[] {
    const lane = this.lanes.get(webhookId);
    if (lane === undefined) return [];
    this.expire(lane);
    return [...lane.abandonedByKey.values()];
  }

  stats(): WebhookDeliveryStats[] {
    const ids = new Set([
      ...this.store.companies().flatMap((c) => this.store.list(c.account).map((w) => w.webhookId)),
      ...this.lanes.keys(),
    ]);
    return [...ids].map((id) => this.statsOf(id));
  }

  statsOf(webhookId: string): WebhookDeliveryStats {
    const webhook = this.store.byId(webhookId);
    const lane = this.lanes.get(webhookId);
    if (lane !== undefined) this.expire(lane);
    return {
      webhookId,
      account: webhook?.account ?? lane?.account ?? '',
      active: webhook?.active ?? false,
      deleted: webhook === undefined,
      delivered: lane?.deliveredByKey.size ?? 0,
      deliveries: lane?.deliveries ?? 0,
      duplicates: lane?.duplicates ?? 0,
      attempts: lane?.attempts ?? 0,
      failures: lane?.failures ?? 0,
      consecutiveFailures: lane?.consecutiveFailures ?? 0,
      pending: lane === undefined ? 0 : lane.queue.length + lane.inFlight.size,
      deactivations: lane?.deactivations ?? 0,
      skippedInactive: lane?.skippedInactive ?? 0,
      abandoned: lane?.abandonedByKey.size ?? 0,
      lastFailure: lane?.lastFailure,
    };
  }

  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      for (const request of lane.inFlight) request.destroy();
    }
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private lane(webhook: Webhook): Lane {
    let lane = this.lanes.get(webhook.webhookId);
    if (lane === undefined) {
      lane = {
        webhookId: webhook.webhookId,
        account: webhook.account,
        queue: [],
        inFlight: new Set(),
        deliveredByKey: new Map(),
        abandonedByKey: new Map(),
        consecutiveFailures: 0,
        deliveries: 0,
        duplicates: 0,
        attempts: 0,
        failures: 0,
        deactivations: 0,
        skippedInactive: 0,
        lastFailure: undefined,
        deleted: false,
        pumpScheduled: false,
        timer: undefined,
      };
      this.lanes.set(webhook.webhookId, lane);
    }
    return lane;
  }

  private follow(change: WebhookChange): void {
    const lane = this.lanes.get(change.webhook.webhookId);
    if (lane === undefined) return;
    if (change.kind === 'deleted') {
      lane.deleted = true;
      lane.queue = [];
      clearTimeout(lane.timer);
    } else if (change.kind === 'activated') {
      // Re-enabled through the API: what waited is sent now, with a fresh failure count.
      lane.consecutiveFailures = 0;
      for (const item of lane.queue) item.notBefore = 0;
      this.schedule(lane);
    }
  }

  /** Deferred so a whole batch is queued before the first pick, which lets the shuffle window work. */
  private schedule(lane: Lane): void {
    if (lane.pumpScheduled || this.stopped) return;
    lane.pumpScheduled = true;
    setImmediate(() => {
      lane.pumpScheduled = false;
      this.pump(lane);
    });
  }

  private pump(lane: Lane): void {
    if (this.stopped || lane.deleted) return;
    const webhook = this.store.byId(lane.webhookId);
    if (webhook === undefined || !webhook.active) return;
    this.expire(lane);
    while (lane.inFlight.size < this.options.concurrency) {
      const index = this.pickReady(lane, Date.now());
      if (index < 0) break;
      const [item] = lane.queue.splice(index, 1);
      if (item !== undefined) this.send(lane, webhook, item);
    }
    this.armTimer(lane);
  }

  private pickReady(lane: Lane, now: number): number {
    const ready: number[] = [];
    for (let i = 0; i < lane.queue.length && ready.length < this.options.shuffleWindow; i += 1) {
      const item = lane.queue[i];
      if (item !== undefined && item.notBefore <= now) ready.push(i);
    }
    return ready.length === 0 ? -1 : this.options.random.pick(ready);
  }

  /** Wakes the lane when its earliest backed-off event is due. */
  private armTimer(lane: Lane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.queue.length === 0 || lane.inFlight.size >= this.options.concurrency) return;
    let due = Number.POSITIVE_INFINITY;
    for (const item of lane.queue) due = Math.min(due, item.notBefore);
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        this.pump(lane);
      },
      Math.max(0, due - Date.now()),
    );
  }

  private send(lane: Lane, webhook: Webhook, item: Pending): void {
    lane.attempts += 1;
    const body = deliveryBody(item.event, webhook.token);
    const { request, outcome } = this.post(webhook.url, body);
    lane.inFlight.add(request);
    void outcome.then((result) => {
      lane.inFlight.delete(request);
      if (this.stopped) return;
      if (result.ok) this.succeeded(lane, item);
      else this.failed(lane, item, result.reason);
      this.schedule(lane);
    });
  }

  private succeeded(lane: Lane, item: Pending): void {
    lane.consecutiveFailures = 0;
    lane.deliveries += 1;
    const { event } = item;
    const known = lane.deliveredByKey.get(event.key);
    if (known === undefined) {
      lane.deliveredByKey.set(event.key, {
        key: event.key,
        resource: event.resource,
        event: event.event,
        id: event.data.id ?? null,
        timestamp: event.timestamp,
        digest: event.digest,
        firstDeliveredAt: this.options.now(),
        deliveries: 1,
      });
    } else {
      known.deliveries += 1;
      lane.duplicates += 1;
    }
    if (!item.duplicate && !lane.deleted && this.options.random.chance(this.options.duplicateRate)) {
      // Somewhere near the front, so the copy arrives soon but not necessarily next.
      const at = this.options.random.int(0, Math.min(lane.queue.length, this.options.shuffleWindow * 2));
      lane.queue.splice(at, 0, {
        event,
        duplicate: true,
        attempts: 0,
        notBefore: 0,
        queuedAt: this.options.now(),
      });
    }
  }

  private failed(lane: Lane, item: Pending, reason: string): void {
    lane.failures += 1;
    lane.lastFailure = reason;
    lane.consecutiveFailures += 1;
    if (lane.deleted) return;
    item.attempts += 1;
    item.lastFailure = reason;
    if (this.windowIsOver(item)) {
      this.abandon(lane, item);
    } else {
      const factor = Math.min(2 ** (item.attempts - 1), MAX_BACKOFF_FACTOR);
      item.notBefore = Date.now() + this.options.retryDelayMs * factor;
      // Back at the front: it is the oldest, and is retried first once its delay is over.
      lane.queue.unshift(item);
    }
    if (lane.consecutiveFailures >= this.options.deactivateAfterFailures) {
      const webhook = this.store.byId(lane.webhookId);
      if (webhook?.active === true) {
        lane.deactivations += 1;
        this.store.deactivate(lane.webhookId);
      }
    }
  }

  private windowIsOver(item: Pending): boolean {
    return this.options.now() - item.queuedAt >= this.options.retryWindowMs;
  }

  /**
   * Gives up on what waited past its window, whether backed off or held by an inactive webhook. Checked whenever
   * the lane is pumped or looked at, because the simulator's clock can move on without any timer firing.
   */
  private expire(lane: Lane): void {
    if (lane.queue.length === 0) return;
    const kept: Pending[] = [];
    for (const item of lane.queue) {
      if (this.windowIsOver(item)) this.abandon(lane, item);
      else kept.push(item);
    }
    lane.queue = kept;
  }

  /** Books an event never delivered as abandoned; a copy of one delivered already is simply dropped. */
  private abandon(lane: Lane, item: Pending): void {
    const { event } = item;
    if (item.duplicate || lane.deliveredByKey.has(event.key) || lane.abandonedByKey.has(event.key)) return;
    lane.abandonedByKey.set(event.key, {
      key: event.key,
      resource: event.resource,
      event: event.event,
      id: event.data.id ?? null,
      timestamp: event.timestamp,
      digest: event.digest,
      attempts: item.attempts,
      lastFailure: item.lastFailure,
      abandonedAt: this.options.now(),
    });
  }

  /** One POST with the headers Aircall's deliveries carry; only a complete 2xx answer in time counts. */
  private post(target: string, body: string): { request: http.ClientRequest; outcome: Promise<Outcome> } {
    const url = new URL(target);
    const secure = url.protocol === 'https:';
    const random = this.options.random;
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? this.httpsAgent : this.httpAgent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        accept: 'application/json, text/plain, */*',
        'accept-encoding': 'gzip, compress, deflate, br',
        'user-agent': 'axios/1.7.9',
        'aircall-origin': 'webhooks',
        traceparent: `00-${random.hex(32)}-${random.hex(16)}-01`,
      },
    });
    const outcome = new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (result: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        finish({ ok: false, reason: 'timeout' });
        request.destroy(new DeliveryTimeoutError(`no answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        response.resume();
        response.on('end', () =>
          finish(status >= 200 && status < 300 ? { ok: true } : { ok: false, reason: `status ${status}` }),
        );
        response.on('error', (error) => finish({ ok: false, reason: error.message }));
      });
      request.on('error', (error) => finish({ ok: false, reason: error.message }));
    });
    request.end(body);
    return { request, outcome };
  }
}
