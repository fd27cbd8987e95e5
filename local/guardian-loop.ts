// Runs the guardian locally on an interval, as the deployed stack's schedule does.

import { type AccountReport, guardAccount } from '../lambdas/guardian/guardian.js';
import type { WebhookRegistry } from '../lambdas/guardian/registry.js';
import { type GapRepair, passFindings, repairGap } from '../lambdas/reconcile/gap.js';
import type { EventSink, StoredState } from '../lambdas/reconcile/ports.js';
import type { AccountStore } from '../lambdas/shared/accounts.js';
import { type AircallCredentials, AircallListingCapError } from '../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../lambdas/shared/aircall/aircall-client.js';
import { AircallRateLimiter } from '../lambdas/shared/aircall/rate-limiter.js';
import { GUARDIAN } from '../lib/definitions/pipeline.js';

export interface LocalGuardianOptions {
  readonly credentials: AircallCredentials;
  readonly apiUrl: string;
  /** Every webhook URL Aircall may deliver to for this stack: a tunnel's, and its own. */
  readonly stackUrls: readonly string[];
  readonly registry: WebhookRegistry;
  readonly intervalMs: number;
  readonly onReport?: (report: AccountReport) => void;
  /** After each pass, the account's gap read through the events queue, as the deployed guardian does. */
  readonly gapRepair?: {
    readonly accounts: AccountStore;
    readonly stored: StoredState;
    readonly sink: EventSink;
    readonly onRepair?: (repair: GapRepair) => void;
  };
  /** A scheduled pass that failed outright, such as a registry that cannot be written. */
  readonly onError?: (error: unknown) => void;
}

export interface RunningGuardian {
  /** One pass now, as the schedule would run it. */
  runOnce(): Promise<AccountReport>;
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

export const startLocalGuardian = (options: LocalGuardianOptions): RunningGuardian => {
  // One limiter for the account: the pass and the gap it reads share Aircall's 120 requests a minute.
  const api = new AircallClient({
    credentials: options.credentials,
    baseUrl: options.apiUrl,
    limiter: new AircallRateLimiter({ minIntervalMs: GUARDIAN.minRequestIntervalMs }),
  });
  const repair = async (report: AccountReport): Promise<void> => {
    const wiring = options.gapRepair;
    if (wiring === undefined || !report.listed) return;
    const done = await repairGap(options.credentials.account, passFindings(report), {
      accounts: wiring.accounts,
      reader: api,
      stored: wiring.stored,
      sink: wiring.sink,
      isListingCap: (error) => error instanceof AircallListingCapError,
      now: () => Date.now(),
      // Within the interval, as the deployed pass stays within its timeout: the next pass resumes from the cursor.
      deadline: Date.now() + options.intervalMs,
    });
    wiring.onRepair?.(done);
  };
  let running: Promise<AccountReport> | undefined;
  const runOnce = (): Promise<AccountReport> => {
    // Passes never overlap: a tick during a slow pass waits for it instead of racing it.
    running = (running ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then(() =>
        guardAccount(options.credentials.account, {
          api,
          registry: options.registry,
          stackUrls: options.stackUrls,
          now: () => Date.now(),
        }),
      )
      .then(async (report) => {
        options.onReport?.(report);
        await repair(report);
        return report;
      });
    return running;
  };
  const timer = setInterval(() => {
    runOnce().catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs);
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
};
