// The reconcile engine wired to a local stack and an Aircall API, on a virtual clock that the client's own waits
// move: the rate limit and 429 resets cost no real time.

import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoStoredState, SqsEventSink } from '../../lambdas/reconcile/adapters.js';
import type { ReconcileDeps } from '../../lambdas/reconcile/reconcile.js';
import { type AircallCredentials, AircallListingCapError } from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { AircallRateLimiter } from '../../lambdas/shared/aircall/rate-limiter.js';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../local/clients.js';
import type { TestLocalStack } from './local.js';

export interface VirtualClock {
  now(): number;
  advance(ms: number): void;
}

/** Reconcile's dependencies over `local`, reading `baseUrl` with the guardian's spacing; `close` frees the client. */
export const reconcileOnLocalStack = (
  local: TestLocalStack,
  options: {
    readonly credentials: AircallCredentials;
    readonly baseUrl: string;
    readonly clock: VirtualClock;
  },
): { readonly deps: ReconcileDeps; close(): void } => {
  const { clock } = options;
  const wait = async (ms: number) => clock.advance(ms);
  const sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
  const reader = new AircallClient({
    credentials: options.credentials,
    baseUrl: options.baseUrl,
    limiter: new AircallRateLimiter({
      minIntervalMs: GUARDIAN.minRequestIntervalMs,
      now: clock.now,
      sleep: wait,
    }),
    now: clock.now,
    sleep: wait,
  });
  return {
    deps: {
      reader,
      stored: new DynamoStoredState(local.documents, local.settings.tables),
      sink: new SqsEventSink(sqs, local.stack.queues.queueUrl),
      isListingCap: (error) => error instanceof AircallListingCapError,
      now: clock.now,
    },
    close: () => sqs.destroy(),
  };
};
