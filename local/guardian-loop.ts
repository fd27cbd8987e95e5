// Runs the guardian locally on an interval, as the deployed stack's schedule does.

import { type AccountReport, guardAccount } from '../lambdas/guardian/guardian.js';
import type { WebhookRegistry } from '../lambdas/guardian/registry.js';
import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../lambdas/shared/aircall/aircall-client.js';
import { GUARDIAN } from '../lib/definitions/pipeline.js';

export interface LocalGuardianOptions {
  readonly credentials: AircallCredentials;
  readonly apiUrl: string;
  /** Every webhook URL Aircall may deliver to for this stack: a tunnel's, and its own. */
  readonly stackUrls: readonly string[];
  readonly registry: WebhookRegistry;
  readonly intervalMs: number;
  readonly onReport?: (report: AccountReport) => void;
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
  const api = new AircallClient({
    credentials: options.credentials,
    baseUrl: options.apiUrl,
    minIntervalMs: GUARDIAN.minRequestIntervalMs,
  });
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
      .then((report) => {
        options.onReport?.(report);
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
