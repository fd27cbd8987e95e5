// startSimulator: the Aircall Public API with its read endpoints, Aircall-like delivery of generated traffic, and its recordings, on one loopback port.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardListener, isAllowedHost, isLoopbackHost } from '../local/request-guard.js';
import { type ActiveFieldName, createApiHandler, type ResetUnit } from './api.js';
import { CallRecords } from './calls.js';
import {
  type AbandonedEvent,
  type DeliveredEvent,
  DeliveryEngine,
  type WebhookDeliveryStats,
} from './delivery.js';
import type { GeneratedEvent } from './envelope.js';
import { FlushTimeoutError, InvalidOptionsError, UnknownMediaError } from './errors.js';
import {
  type MediaDownloads,
  type MediaFile,
  type MediaKind,
  MediaLinks,
  MediaServer,
  MIN_MEDIA_BYTES,
} from './media.js';
import { createRandom } from './random.js';
import { type ApiUsage, RateLimiter } from './rate-limit.js';
import { createRosterLists } from './roster.js';
import { type CompanyConfig, type NewWebhookInput, type Webhook, WebhookStore } from './store.js';
import { createTrafficGenerator, type Placement, type TrafficGenerator } from './traffic.js';

export interface SimulatorOptions {
  /** @default 0, a free port */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1', loopback only: the simulated API hands out tokens to anyone. */
  readonly host?: string;
  /** @default one company, account `demo`, with credentials made at random for this start (`randomCompany`) */
  readonly companies?: readonly CompanyConfig[];
  /**
   * Lets webhooks point at any host. Otherwise a webhook URL must name this machine (loopback, or `host` when the
   * simulator listens on another address), and the API refuses any other with a 400: whoever reaches the API
   * could make the simulator post to any host. @default false
   */
  readonly allowRemoteDelivery?: boolean;
  /** Requests per company per minute, counted on the `now` clock. @default 120 */
  readonly rateLimitPerMinute?: number;
  /** Unit of `X-AircallApi-Reset`. @default 'seconds' */
  readonly resetUnit?: ResetUnit;
  /** Name of the activity flag in API answers. @default 'active' */
  readonly activeFieldName?: ActiveFieldName;
  /** A PUT without `events` subscribes the webhook to all events again. @default true */
  readonly resetEventsOnPutWithoutEvents?: boolean;
  /** @default 5000 */
  readonly deliveryTimeoutMs?: number;
  /** @default 10 */
  readonly deactivateAfterFailures?: number;
  /** First retry delay; doubles per attempt up to 32 times. @default 1000 */
  readonly retryDelayMs?: number;
  /**
   * Milliseconds on the `now` clock after an event is queued for a webhook past which a delivery that has not
   * succeeded is given up on (`abandoned`), as Aircall stops retrying after about 12 hours. An event waiting on
   * an inactive webhook is given up on too once its window is over. @default 43200000 (12 hours)
   */
  readonly retryWindowMs?: number;
  /** Share of delivered events sent a second time. @default 0.02 */
  readonly duplicateRate?: number;
  /** Ready events the next delivery is picked among; 1 keeps the order. @default 4 */
  readonly shuffleWindow?: number;
  /** Deliveries in flight at once per webhook. @default 4 */
  readonly concurrency?: number;
  /** Seeds the generated payloads and the delivery quirks. @default 1 */
  readonly seed?: number;
  /**
   * UNIX seconds the generated calls start from, one after another, moved back only where they would run
   * past `now`; when absent each batch ends at `now`, its calls started seconds to minutes before.
   */
  readonly startTime?: number;
  /**
   * Epoch milliseconds: generated traffic is placed so it has happened by this clock's reading when it is
   * delivered, and `firstDeliveredAt` reads it. @default Date.now
   */
  readonly now?: () => number;
  /** Size of each company's roster: its users (`agents`), numbers and shared contacts. @default 4, 2 and 6 */
  readonly roster?: { readonly agents?: number; readonly numbers?: number; readonly contacts?: number };
  /** Also send `.v2` user events. @default true */
  readonly userEventsV2?: boolean;
  /**
   * `X-Amz-Expires` of recording and voicemail links, signed at each event's timestamp and at each
   * `GET /v1/calls/:id`; a link is refused once its date plus this is past `now`. @default 600
   */
  readonly mediaLinkExpirySeconds?: number;
  /** Size of each recording and voicemail, in bytes; a function sizes each file. @default 49152 */
  readonly mediaSizeBytes?: number | ((file: MediaFile) => number);
  /** Media are generated and written this many bytes at a time. @default 65536 */
  readonly mediaChunkBytes?: number;
}

export interface CompanyHandle extends CompanyConfig {
  /** The `Authorization` header value for HTTP Basic. */
  readonly authorization: string;
  /** Its roster: `agents` and `numbers`. */
  readonly traffic: TrafficGenerator;
  webhooks(): Webhook[];
  /** Creates a webhook directly, with the API's checks but outside its rate limit. */
  createWebhook(input: NewWebhookInput): Webhook;
  /** `count` lifecycles and agent events for this company, queued for delivery now. */
  generate(count: number): GeneratedEvent[];
  /** As `Simulator.seedHistory` for this company. */
  seedHistory(history: HistoryRequest): number[];
}

/** Finished calls to put in the record without delivering them. */
export interface HistoryRequest {
  readonly calls: number;
  /** UNIX seconds: the first call starts at `from`, the last at `to`, the others evenly between. */
  readonly from: number;
  readonly to: number;
}

export interface SimulatorStats {
  readonly generatedEvents: number;
  /** Event-to-webhook deliveries queued (one event for two webhooks counts two). */
  readonly queuedDeliveries: number;
  readonly totals: {
    readonly webhooks: number;
    readonly activeWebhooks: number;
    readonly delivered: number;
    readonly duplicates: number;
    readonly failures: number;
    readonly pending: number;
    readonly deactivations: number;
    readonly skippedInactive: number;
    readonly abandoned: number;
  };
  readonly webhooks: WebhookDeliveryStats[];
  /** Per company, the Public API requests it made, answered 429, and at most within any minute. */
  readonly api: ApiUsage[];
}

export interface Simulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `url` + `/v1`: the base URL an Aircall API client takes. */
  readonly apiUrl: string;
  readonly port: number;
  stop(): Promise<void>;
  company(account: string): CompanyHandle;
  companies(): CompanyHandle[];
  /** `count` lifecycles (with agent events) for each company, or for one, over by now; queued for delivery now. */
  generate(count: number, account?: string): GeneratedEvent[];
  startTraffic(options: { readonly eventsPerSecond: number }): void;
  stopTraffic(): void;
  /** Resolves once nothing is in flight and every queue is empty or waits on an inactive webhook. */
  flush(options?: { readonly timeoutMs?: number }): Promise<void>;
  stats(): SimulatorStats;
  /** The distinct events the webhook answered 2xx to, in order of first delivery. */
  delivered(webhookId: string): DeliveredEvent[];
  /** The distinct events given up on for the webhook once `retryWindowMs` was over, in the order they were. */
  abandoned(webhookId: string): AbandonedEvent[];
  /**
   * `calls` finished calls of the company, `started_at` spread evenly over [from, to], put in the record that
   * `GET /v1/calls` and `GET /v1/calls/:id` read, and delivered to no webhook: history from before any
   * webhook, or from a gap. Their recordings and voicemails are served like any other. Returns their ids, in
   * `started_at` order.
   */
  seedHistory(account: string, history: HistoryRequest): number[];
  /** The company's Public API requests on the simulator's clock, as `stats().api` has them. */
  apiStats(account: string): ApiUsage;
  /** SHA-256 (hex) and length of the bytes a GET of the recording or voicemail returns. */
  mediaBytes(
    account: string,
    callId: number,
    kind: MediaKind,
  ): { readonly sha256: string; readonly length: number };
  /** What was served of that file so far: downloads, refusals, chunks. */
  mediaDownloads(account: string, callId: number, kind: MediaKind): MediaDownloads;
}

/** The account of the company a simulator has when it is given none. */
export const DEFAULT_ACCOUNT = 'demo';

/** A company whose API ID and token are made at random now: nobody can know them before they are printed. */
export const randomCompany = (account: string = DEFAULT_ACCOUNT): CompanyConfig => ({
  account,
  apiId: `${account}-${randomBytes(4).toString('hex')}`,
  apiToken: randomBytes(16).toString('hex'),
});
const TRAFFIC_TICK_MS = 100;
const FLUSH_POLL_MS = 5;

/** The names a webhook URL may use to reach this machine, in words. */
const machineNames = (host: string): string => {
  const loopback = 'this machine (127.0.0.1, ::1 or localhost';
  if (isLoopbackHost(host)) return `${loopback})`;
  if (host === '0.0.0.0' || host === '::') return `${loopback}, or an address of its own)`;
  return `${loopback}, or ${host})`;
};

const check = (ok: boolean, message: string): void => {
  if (!ok) throw new InvalidOptionsError(message);
};

export const startSimulator = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  const companies = options.companies ?? [randomCompany()];
  const seed = options.seed ?? 1;
  const duplicateRate = options.duplicateRate ?? 0.02;
  const shuffleWindow = options.shuffleWindow ?? 4;
  const concurrency = options.concurrency ?? 4;
  const rateLimitPerMinute = options.rateLimitPerMinute ?? 120;
  const retryWindowMs = options.retryWindowMs ?? 12 * 60 * 60 * 1000;
  check(companies.length > 0, 'at least one company is needed');
  check(new Set(companies.map((c) => c.account)).size === companies.length, 'accounts must be distinct');
  check(duplicateRate >= 0 && duplicateRate <= 1, 'duplicateRate must be between 0 and 1');
  check(Number.isInteger(shuffleWindow) && shuffleWindow >= 1, 'shuffleWindow must be a whole number >= 1');
  check(Number.isInteger(concurrency) && concurrency >= 1, 'concurrency must be a whole number >= 1');
  check(rateLimitPerMinute >= 1, 'rateLimitPerMinute must be at least 1');
  check(retryWindowMs >= 0, 'retryWindowMs must be 0 or more');
  const mediaLinkExpirySeconds = options.mediaLinkExpirySeconds ?? 600;
  const mediaChunkBytes = options.mediaChunkBytes ?? 65_536;
  const mediaSize = options.mediaSizeBytes ?? 49_152;
  check(
    Number.isInteger(mediaLinkExpirySeconds) && mediaLinkExpirySeconds >= 1,
    'mediaLinkExpirySeconds must be a whole number >= 1',
  );
  check(
    Number.isInteger(mediaChunkBytes) && mediaChunkBytes >= 1,
    'mediaChunkBytes must be a whole number >= 1',
  );
  const sizeOf = (file: MediaFile): number => {
    const size = typeof mediaSize === 'number' ? mediaSize : mediaSize(file);
    check(
      Number.isInteger(size) && size >= MIN_MEDIA_BYTES,
      `mediaSizeBytes must be a whole number >= ${MIN_MEDIA_BYTES}`,
    );
    return size;
  };
  if (typeof mediaSize === 'number') sizeOf({ account: '', callId: 0, kind: 'recording' });

  const clock = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const store = new WebhookStore(companies, {
    anywhere: options.allowRemoteDelivery ?? false,
    // Stricter than the request guard: a `*.localhost` name may be resolved by DNS rather than to loopback.
    deliverable: (hostname) =>
      !hostname.toLowerCase().replace(/\.$/, '').endsWith('.localhost') &&
      isAllowedHost(hostname, { bindAddress: host }),
    description: `${machineNames(host)}: the simulator delivers nowhere else unless allowed to (--allow-remote-delivery)`,
  });
  const engine = new DeliveryEngine(store, {
    timeoutMs: options.deliveryTimeoutMs ?? 5000,
    deactivateAfterFailures: options.deactivateAfterFailures ?? 10,
    retryDelayMs: options.retryDelayMs ?? 1000,
    retryWindowMs,
    duplicateRate,
    shuffleWindow,
    concurrency,
    // Its own stream, so delivery quirks do not shift the generated payloads.
    random: createRandom(seed ^ 0x5bd1e995),
    now: clock,
  });
  const nowSeconds = (): number => Math.floor(clock() / 1000);
  // The links name the port, known once the server listens; nothing signs one before that.
  let url = '';
  const links = new MediaLinks({
    origin: () => url,
    // Per start, so a link from another run is refused.
    secret: randomBytes(32),
    expirySeconds: mediaLinkExpirySeconds,
  });
  const calls = new CallRecords(links);
  const media = new MediaServer({
    links,
    exists: (file) => calls.hasMedia(file),
    sizeOf,
    seed,
    chunkBytes: mediaChunkBytes,
    nowSeconds,
  });
  const limiter = new RateLimiter(rateLimitPerMinute, clock);
  const startedAt = options.startTime ?? nowSeconds();
  const lists = new Map([
    ['calls', (account: string, target: URL) => calls.list(account, target, nowSeconds())],
    ...createRosterLists({ generatorOf: (account) => generatorOf(account), seed, epoch: startedAt }),
  ]);
  const handler = createApiHandler({
    store,
    call: (account, callId) => calls.get(account, callId, nowSeconds()),
    lists,
    limiter,
    options: {
      activeFieldName: options.activeFieldName ?? 'active',
      resetUnit: options.resetUnit ?? 'seconds',
      resetEventsOnPutWithoutEvents: options.resetEventsOnPutWithoutEvents ?? true,
    },
  });

  /** Events generated now are sent now or later, so none may be later than now. */
  const placement = (): Placement => {
    const now = nowSeconds();
    // Without a fixed start batches also start from now, so they end at now rather than long before.
    return options.startTime === undefined ? { notBefore: now, notAfter: now } : { notAfter: now };
  };
  const generators = new Map<string, TrafficGenerator>(
    companies.map((company, companyIndex) => [
      company.account,
      createTrafficGenerator({
        account: company.account,
        seed,
        startTime: startedAt,
        companyIndex,
        ...(options.roster?.agents === undefined ? {} : { agents: options.roster.agents }),
        ...(options.roster?.numbers === undefined ? {} : { numbers: options.roster.numbers }),
        ...(options.roster?.contacts === undefined ? {} : { contacts: options.roster.contacts }),
        ...(options.userEventsV2 === undefined ? {} : { userEventsV2: options.userEventsV2 }),
        mediaLink: (file, signedAt) => links.sign(file, signedAt),
      }),
    ]),
  );
  let generatedEvents = 0;
  let queuedDeliveries = 0;

  const enqueue = (events: GeneratedEvent[]): void => {
    generatedEvents += events.length;
    for (const event of events) {
      calls.record(event);
      queuedDeliveries += engine.enqueue(event);
    }
  };

  const generatorOf = (account: string): TrafficGenerator => {
    store.company(account);
    const generator = generators.get(account);
    if (generator === undefined) throw new InvalidOptionsError(`no traffic for ${account}`);
    return generator;
  };

  const generateFor = (account: string, count: number): GeneratedEvent[] => {
    const events = generatorOf(account).generate(count, placement());
    enqueue(events);
    return events;
  };

  const seedHistory = (account: string, { calls: count, from, to }: HistoryRequest): number[] => {
    check(Number.isInteger(count) && count >= 0, 'calls must be a whole number >= 0');
    check(
      Number.isInteger(from) && Number.isInteger(to) && from <= to,
      'from and to must be UNIX seconds, from <= to',
    );
    return generatorOf(account)
      .history(count, from, to)
      .map(({ timestamp, data }) => {
        calls.keep(account, timestamp, data);
        return Number(data.id);
      });
  };

  const company = (account: string): CompanyHandle => {
    const config = store.company(account);
    return {
      ...config,
      authorization: `Basic ${Buffer.from(`${config.apiId}:${config.apiToken}`).toString('base64')}`,
      traffic: generatorOf(account),
      webhooks: () => store.list(account),
      createWebhook: (input) => store.create(account, input),
      generate: (count) => generateFor(account, count),
      seedHistory: (history) => seedHistory(account, history),
    };
  };

  // Like the local stack's servers, it answers no web page: it hands out webhook tokens to whoever asks.
  const server = createServer(
    guardListener(
      (request, response) => {
        const target = new URL(request.url ?? '/', url);
        if (target.pathname.startsWith('/media/')) media.handle(request, response, target);
        else handler(request, response);
      },
      { bindAddress: host },
    ),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // A server on every interface is still reached through loopback from this machine.
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;

  let trafficTimer: NodeJS.Timeout | undefined;
  const stopTraffic = (): void => {
    clearInterval(trafficTimer);
    trafficTimer = undefined;
  };

  const startTraffic = ({ eventsPerSecond }: { readonly eventsPerSecond: number }): void => {
    if (!(eventsPerSecond > 0)) throw new InvalidOptionsError('eventsPerSecond must be above 0');
    stopTraffic();
    // A few lifecycles are generated at a time and handed out one event at a time, companies in turn.
    const buffers = new Map<string, GeneratedEvent[]>(companies.map((c) => [c.account, []]));
    let turn = 0;
    let budget = 0;
    let last = Date.now();
    trafficTimer = setInterval(() => {
      const now = Date.now();
      budget += (eventsPerSecond * (now - last)) / 1000;
      last = now;
      while (budget >= 1) {
        budget -= 1;
        const account = companies[turn % companies.length]?.account ?? DEFAULT_ACCOUNT;
        turn += 1;
        const buffer = buffers.get(account) ?? [];
        // Handed out later than generated, so what the buffer holds has still happened when it is sent.
        if (buffer.length === 0) buffer.push(...generatorOf(account).generate(3, placement()));
        const event = buffer.shift();
        buffers.set(account, buffer);
        if (event !== undefined) enqueue([event]);
      }
    }, TRAFFIC_TICK_MS);
  };

  const stats = (): SimulatorStats => {
    const webhooks = engine.stats();
    const sum = (pick: (s: WebhookDeliveryStats) => number): number =>
      webhooks.reduce((total, s) => total + pick(s), 0);
    return {
      generatedEvents,
      queuedDeliveries,
      totals: {
        webhooks: webhooks.filter((s) => !s.deleted).length,
        activeWebhooks: webhooks.filter((s) => s.active).length,
        delivered: sum((s) => s.delivered),
        duplicates: sum((s) => s.duplicates),
        failures: sum((s) => s.failures),
        pending: sum((s) => s.pending),
        deactivations: sum((s) => s.deactivations),
        skippedInactive: sum((s) => s.skippedInactive),
        abandoned: sum((s) => s.abandoned),
      },
      webhooks,
      api: companies.map((c) => limiter.usageOf(c.account)),
    };
  };

  const flush = async (flushOptions: { readonly timeoutMs?: number } = {}): Promise<void> => {
    const deadline = flushOptions.timeoutMs === undefined ? undefined : Date.now() + flushOptions.timeoutMs;
    // A pump may be scheduled for the next turn of the loop: give it that turn before the first look.
    await new Promise((resolve) => setImmediate(resolve));
    while (!engine.isSettled()) {
      if (deadline !== undefined && Date.now() > deadline) {
        throw new FlushTimeoutError(`deliveries still pending after ${flushOptions.timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
    }
  };

  return {
    url,
    apiUrl: `${url}/v1`,
    port,
    company,
    companies: () => companies.map((c) => company(c.account)),
    generate: (count, account) =>
      account === undefined
        ? companies.flatMap((c) => generateFor(c.account, count))
        : generateFor(account, count),
    startTraffic,
    stopTraffic,
    flush,
    stats,
    delivered: (webhookId) => engine.delivered(webhookId),
    abandoned: (webhookId) => engine.abandoned(webhookId),
    seedHistory,
    apiStats: (account) => {
      store.company(account);
      return limiter.usageOf(account);
    },
    mediaBytes: (account, callId, kind) => {
      const file = { account, callId, kind };
      if (!calls.hasMedia(file)) throw new UnknownMediaError(`no ${kind} for call ${callId} of ${account}`);
      return media.bytes(file);
    },
    mediaDownloads: (account, callId, kind) => media.downloads({ account, callId, kind }),
    stop: async () => {
      stopTraffic();
      engine.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
};
