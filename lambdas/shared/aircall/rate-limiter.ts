// Pacing of requests to one Aircall company, shared by every client of that company in a process: Aircall counts its
// rate limit per company, across every integration, so clients that each paced themselves would overrun it together.

export interface AircallRateLimiterOptions {
  /** Spacing between request starts; 500 keeps under 120 a minute. @default 0 */
  readonly minIntervalMs?: number;
  /** @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** What one method call may still spend waiting on the rate limit; a turn draws its pause from it. */
export interface RateLimitBudget {
  remainingMs: number;
}

// Reset values above this are epoch milliseconds; epoch seconds stay below it until the year 33658.
const MILLISECONDS_THRESHOLD = 1e12;
// A reset that is due (or nearly) still gets a short pause, so a 429 is never answered with a burst.
const MIN_RATE_LIMIT_WAIT_MS = 250;
const FIRST_RATE_LIMIT_BACKOFF_MS = 1000;
const MAX_RATE_LIMIT_BACKOFF_MS = 30_000;

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential from `firstMs`, with jitter over its upper half so that clients do not retry in step. */
export const backoff = (firstMs: number, attempt: number, capMs = Number.POSITIVE_INFINITY): number => {
  const ceiling = Math.min(firstMs * 2 ** attempt, capMs);
  return ceiling / 2 + Math.random() * (ceiling / 2);
};

/** `X-AircallApi-Reset` as epoch milliseconds; Aircall has been seen sending seconds and milliseconds. */
const parseReset = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const reset = Number(value);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return reset > MILLISECONDS_THRESHOLD ? reset : reset * 1000;
};

const parseRemaining = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const remaining = Number(value);
  return Number.isInteger(remaining) && remaining >= 0 ? remaining : undefined;
};

/**
 * Spaces request starts by `minIntervalMs` and holds every request while the company's window is used up: after an
 * answer said `X-AircallApi-Remaining: 0`, until its reset, and after a 429, until the wait that 429 called for.
 * Several AircallClient instances of one company share one instance, so one client's 429 pauses the others too.
 */
export class AircallRateLimiter {
  readonly minIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** When the next request may start, reserved synchronously so concurrent requests keep the spacing too. */
  private nextSlotAt = 0;
  /** The reset an answer announced with `X-AircallApi-Remaining: 0`; a later answer with room lifts it. */
  private windowResetAt = 0;
  /**
   * Until when a 429 holds every request. Only time lifts it: an answer with room may have been sent before the
   * 429, so it proves nothing about the window now.
   */
  private blockedUntil = 0;

  constructor(options: AircallRateLimiterOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? 0;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /**
   * Resolves when a request may start. The pause for a used-up window is a rate-limit wait, so it is drawn from
   * `budget` and ends early once the budget is spent (the request then goes, and a 429 says the rest); the spacing
   * is not, as it is this process's own choice.
   */
  async turn(budget: RateLimitBudget): Promise<void> {
    const now = this.now();
    const pausedUntil = Math.max(this.windowResetAt, this.blockedUntil);
    const pause = Math.max(0, Math.min(pausedUntil - now, budget.remainingMs));
    budget.remainingMs -= pause;
    const slot = Math.max(now + pause, this.nextSlotAt);
    this.nextSlotAt = slot + this.minIntervalMs;
    if (slot > now) await this.sleep(slot - now);
  }

  /** Reads the window an answer other than a 429 announced. */
  observe(headers: Headers): void {
    const remaining = parseRemaining(headers.get('x-aircallapi-remaining'));
    const reset = parseReset(headers.get('x-aircallapi-reset'));
    if (remaining === 0 && reset !== undefined) this.windowResetAt = reset;
    else if (remaining !== undefined && remaining > 0) this.windowResetAt = 0;
  }

  /**
   * After a 429: holds every request until the reset it announced (at least 250 ms away) or, with no usable reset,
   * for a jittered backoff doubling with `blindWaits` (the caller's count of such waits so far). Returns whether
   * the wait was blind. The pause is kept whatever the caller may still spend: the next caller's budget may allow it.
   */
  backOff(headers: Headers, blindWaits: number): { readonly blind: boolean } {
    const now = this.now();
    const reset = parseReset(headers.get('x-aircallapi-reset'));
    const untilReset = reset === undefined ? undefined : reset - now;
    // A reset already past means our clock and Aircall's disagree; it says nothing about when to retry.
    const blind = untilReset === undefined || untilReset <= 0;
    const ms = blind
      ? backoff(FIRST_RATE_LIMIT_BACKOFF_MS, blindWaits, MAX_RATE_LIMIT_BACKOFF_MS)
      : Math.max(untilReset, MIN_RATE_LIMIT_WAIT_MS);
    this.pauseUntil(now + ms);
    return { blind };
  }

  /** No request of this company starts before `untilMs` (epoch milliseconds). */
  pauseUntil(untilMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, untilMs);
  }
}

/**
 * One AircallRateLimiter per company, built on first use: the guardian, the reconcile and any other reader in one
 * process take their limiter from one registry, and so share the company's window.
 */
export class AircallRateLimiters {
  private readonly limiters = new Map<string, AircallRateLimiter>();

  constructor(private readonly options: AircallRateLimiterOptions = {}) {}

  for(account: string): AircallRateLimiter {
    const known = this.limiters.get(account);
    if (known !== undefined) return known;
    const limiter = new AircallRateLimiter(this.options);
    this.limiters.set(account, limiter);
    return limiter;
  }
}
