// Per-company request budget over a fixed one-minute window, with the numbers Aircall's headers carry.

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch milliseconds when the current window ends and the budget is full again. */
  readonly resetAtMs: number;
}

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly windows = new Map<string, { startMs: number; used: number }>();

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
    return {
      allowed,
      limit: this.limitPerMinute,
      remaining: this.limitPerMinute - window.used,
      resetAtMs: window.startMs + WINDOW_MS,
    };
  }
}
