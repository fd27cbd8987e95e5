// Per-company request budget over a fixed one-minute window on the simulator's clock, with the numbers Aircall's headers carry and an account of use.

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch milliseconds when the current window ends and the budget is full again. */
  readonly resetAtMs: number;
}

/** What one company asked of the API, authenticated requests only (an unknown caller names no company). */
export interface ApiUsage {
  readonly account: string;
  /** Every request, refused ones included. */
  readonly requests: number;
  /** Requests answered 429. */
  readonly rateLimited: number;
  /** The most requests started within any 60 seconds of the clock, refused ones included: what Aircall sees. */
  readonly peakRequestsPerMinute: number;
}

const WINDOW_MS = 60_000;

interface Usage {
  requests: number;
  rateLimited: number;
  peak: number;
  /** Start times of the requests of the last 60 seconds, oldest first, from `head` on. */
  recent: number[];
  head: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { startMs: number; used: number }>();
  private readonly usage = new Map<string, Usage>();

  constructor(
    private readonly limitPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for the account; a refused request does not use up anything more. */
  take(account: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(account);
    if (window === undefined || now >= window.startMs + WINDOW_MS) {
      window = { startMs: now, used: 0 };
      this.windows.set(account, window);
    }
    const allowed = window.used < this.limitPerMinute;
    if (allowed) window.used += 1;
    this.count(account, now, allowed);
    return {
      allowed,
      limit: this.limitPerMinute,
      remaining: this.limitPerMinute - window.used,
      resetAtMs: window.startMs + WINDOW_MS,
    };
  }

  usageOf(account: string): ApiUsage {
    const usage = this.usage.get(account);
    return {
      account,
      requests: usage?.requests ?? 0,
      rateLimited: usage?.rateLimited ?? 0,
      peakRequestsPerMinute: usage?.peak ?? 0,
    };
  }

  /** Slides a 60-second window over request start times: (now - 60 s, now], as the fixed window counts. */
  private count(account: string, now: number, allowed: boolean): void {
    let usage = this.usage.get(account);
    if (usage === undefined) {
      usage = { requests: 0, rateLimited: 0, peak: 0, recent: [], head: 0 };
      this.usage.set(account, usage);
    }
    usage.requests += 1;
    if (!allowed) usage.rateLimited += 1;
    usage.recent.push(now);
    while ((usage.recent[usage.head] ?? now) <= now - WINDOW_MS) usage.head += 1;
    // Dropped in bulk now and then, so a long run neither keeps every time nor shifts the array per request.
    if (usage.head > 1024 && usage.head * 2 > usage.recent.length) {
      usage.recent = usage.recent.slice(usage.head);
      usage.head = 0;
    }
    usage.peak = Math.max(usage.peak, usage.recent.length - usage.head);
  }
}
