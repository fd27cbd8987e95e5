// Lambda entry run on a schedule: the handler factory, and the handler Lambda calls, built from the environment.
// One guardian pass over every account in the credentials secret.

import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { GUARDIAN_METRICS } from '../../lib/definitions/metrics.js';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import { DynamoStoredState, SqsEventSink } from '../reconcile/adapters.js';
import { type GapRepair, passFindings, repairGap } from '../reconcile/gap.js';
import type { ApiReader, EventSink, StoredState } from '../reconcile/ports.js';
import { type AccountStore, DynamoAccountStore } from '../shared/accounts.js';
import {
  type AircallApi,
  type AircallCredentials,
  AircallListingCapError,
} from '../shared/aircall/aircall.js';
import { AircallClient } from '../shared/aircall/aircall-client.js';
import { parseCredentials } from '../shared/aircall/credentials.js';
import { AircallRateLimiters } from '../shared/aircall/rate-limiter.js';
import type { ClientTarget } from '../shared/aws.js';
import { builtOnFirstCall } from '../shared/first-call.js';
import { createLogger } from '../shared/logger.js';
import { type GuardianConfig, loadGuardianConfig } from './config.js';
import { DynamoWebhookRegistry } from './dynamo-registry.js';
import { type AccountReport, guardAccounts, PassTimedOutError } from './guardian.js';
import type { WebhookRegistry } from './registry.js';

export type GuardianHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<AccountReport[]>;

export interface GuardianHandlerDeps {
  /** The credentials secret's value: a JSON list of accounts. */
  readonly readSecret: () => Promise<unknown>;
  readonly registry: WebhookRegistry;
  /** Every webhook URL of this stack, as registered at Aircall: the webhooks pointing at any of them are kept. */
  readonly webhookUrls: readonly string[];
  /**
   * The Aircall Public API client of one account, cancelled by `signal` when the invocation's time is up, so that a
   * pass that ran out of time never goes on into the next invocation.
   */
  readonly apiFor: (credentials: AircallCredentials, signal?: AbortSignal) => AircallApi;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
  /** Reads the gaps in each account's events after its pass; absent, no gap is looked for. */
  readonly gapRepair?: GapRepairWiring;
}

export interface GapRepairWiring {
  /** The list endpoints of one account, sharing the account's limiter with its webhook client. */
  readonly readerFor: (credentials: AircallCredentials, signal?: AbortSignal) => ApiReader;
  readonly accounts: AccountStore;
  readonly stored: StoredState;
  readonly sink: EventSink;
}

const count = (reports: readonly AccountReport[], action: string): number =>
  reports.reduce(
    (sum, report) => sum + report.webhooks.filter((webhook) => webhook.action === action).length,
    0,
  );

// Left for metrics and logs after the accounts' time runs out, so a slow account cannot silence the run.
const REPORTING_RESERVE_MS = 10_000;

/** Whether the handler was given Lambda's whole context (a test or the local stack may give only the clock). */
const isLambdaContext = (context: Partial<Context>): context is Context =>
  typeof context.awsRequestId === 'string' && typeof context.functionName === 'string';

/** Builds the handler from its dependencies; nothing here reads the environment. */
export const createGuardianHandler = (deps: GuardianHandlerDeps): GuardianHandler => {
  const logReport = (report: AccountReport): void => {
    // Outcomes carry ids, names, events and reasons only: no token ever reaches them.
    const level =
      !report.listed || report.registered === 0 || report.webhooks.some((w) => w.action === 'failed')
        ? 'error'
        : 'info';
    deps.logger[level]('guardian pass', { ...report });
  };

  /**
   * After the passes, each listed account's gap is looked for and read, all at once, each until the time left; one
   * account's failure is logged and counted and never stops another's.
   */
  const repairGaps = async (
    credentialsList: readonly AircallCredentials[],
    reports: readonly AccountReport[],
    context: Pick<Context, 'getRemainingTimeInMillis'>,
    signal: AbortSignal,
  ): Promise<(GapRepair | 'failed')[]> => {
    const wiring = deps.gapRepair;
    if (wiring === undefined) return [];
    const deadline = deps.now() + context.getRemainingTimeInMillis() - REPORTING_RESERVE_MS;
    return Promise.all(
      credentialsList.flatMap((credentials) => {
        const report = reports.find((r) => r.account === credentials.account);
        if (report === undefined || !report.listed) return [];
        return [
          repairGap(credentials.account, passFindings(report), {
            accounts: wiring.accounts,
            reader: wiring.readerFor(credentials, signal),
            stored: wiring.stored,
            sink: wiring.sink,
            isListingCap: (error) => error instanceof AircallListingCapError,
            now: deps.now,
            deadline,
          }).then(
            (repair) => {
              if (repair.gap !== undefined)
                deps.logger.info('gap repair', {
                  account: repair.account,
                  gap: repair.gap,
                  ...(repair.opened === undefined ? {} : { opened: repair.opened }),
                  complete: repair.report?.complete,
                  counts: repair.report?.counts,
                });
              return repair;
            },
            (error: unknown) => {
              deps.logger.error('gap repair failed', { account: credentials.account, error });
              return 'failed' as const;
            },
          ),
        ];
      }),
    );
  };

  return async (_event, context) => {
    if (isLambdaContext(context)) deps.logger.addContext(context);
    const secret = await deps.readSecret();
    if (typeof secret !== 'string') throw new Error('the Aircall credentials secret must be a JSON string');
    const credentialsList = parseCredentials(secret);
    // One clock for the whole invocation: at its end every Aircall request still in flight is cancelled.
    const timeoutMs = Math.max(1000, context.getRemainingTimeInMillis() - REPORTING_RESERVE_MS);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new PassTimedOutError(`the pass did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const accounts = credentialsList.map((credentials) => ({
      account: credentials.account,
      deps: {
        api: deps.apiFor(credentials, controller.signal),
        registry: deps.registry,
        stackUrls: deps.webhookUrls,
        now: deps.now,
      },
    }));

    const reports = await guardAccounts(accounts, { timeoutMs, onReport: logReport });

    const { names } = GUARDIAN_METRICS;
    const repairs = await repairGaps(credentialsList, reports, context, controller.signal).finally(() =>
      clearTimeout(timer),
    );
    if (deps.gapRepair !== undefined) {
      const done = repairs.filter((repair): repair is GapRepair => repair !== 'failed');
      deps.metrics.addMetric(names.gapsOpened, MetricUnit.Count, done.filter((r) => r.opened).length);
      deps.metrics.addMetric(
        names.objectsReconciled,
        MetricUnit.Count,
        done.reduce((sum, r) => sum + (r.report ? r.report.counts.new + r.report.counts.updated : 0), 0),
      );
      deps.metrics.addMetric(
        names.gapRepairFailures,
        MetricUnit.Count,
        repairs.filter((repair) => repair === 'failed').length,
      );
    }
    deps.metrics.addMetric(names.webhooksReenabled, MetricUnit.Count, count(reports, 'reenabled'));
    deps.metrics.addMetric(names.webhookReenableFailures, MetricUnit.Count, count(reports, 'failed'));
    deps.metrics.addMetric(
      names.accountsUnreachable,
      MetricUnit.Count,
      reports.filter((report) => !report.listed).length,
    );
    const counted = reports.flatMap((report) =>
      report.registered === undefined ? [] : [{ account: report.account, rows: report.registered }],
    );
    deps.metrics.addMetric(
      names.accountsWithoutWebhooks,
      MetricUnit.Count,
      counted.filter(({ rows }) => rows === 0).length,
    );
    deps.metrics.publishStoredMetrics();
    // One line per account: EMF gives every metric of a line the same dimensions.
    for (const { account, rows } of counted) {
      const perAccount = deps.metrics.singleMetric();
      perAccount.addDimension(GUARDIAN_METRICS.accountDimension, account);
      perAccount.addMetric(names.registeredWebhooks, MetricUnit.Count, rows);
    }
    return reports;
  };
};

export interface GuardianWiring {
  readonly webhooksTable: string;
  readonly secretId: string;
  readonly webhookUrls: readonly string[];
  readonly aircallApiUrl: string;
  /** The events queue and the tables gap repair uses, when the stack gives them. */
  readonly gapRepair?: GuardianConfig['gapRepair'];
  /** Where the registry, the tables, the queue and the secret are reached; the SDK's own chain on Lambda. */
  readonly dynamodb?: ClientTarget;
  readonly sqs?: ClientTarget;
  readonly secretsManager?: ClientTarget;
}

/** The handler's dependencies as the deployed function wires them, every client named by `wiring`. */
export const guardianDependencies = (
  wiring: GuardianWiring,
): Omit<GuardianHandlerDeps, 'metrics' | 'logger'> => {
  const secrets = new SecretsProvider({ clientConfig: { ...wiring.secretsManager } });
  // Built with the handler, not per invocation: a warm function's next pass still knows a window Aircall closed.
  const limiters = new AircallRateLimiters({ minIntervalMs: GUARDIAN.minRequestIntervalMs });
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...wiring.dynamodb }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const clientOf = (credentials: AircallCredentials, signal?: AbortSignal) =>
    new AircallClient({
      credentials,
      baseUrl: wiring.aircallApiUrl,
      limiter: limiters.for(credentials.account),
      ...(signal === undefined ? {} : { signal }),
    });
  const repair = wiring.gapRepair;
  return {
    readSecret: () => secrets.get(wiring.secretId, { maxAge: GUARDIAN.secretCacheSeconds }),
    registry: new DynamoWebhookRegistry(documents, wiring.webhooksTable),
    ...(repair === undefined
      ? {}
      : {
          gapRepair: {
            readerFor: clientOf,
            accounts: new DynamoAccountStore(documents, repair.accountsTable),
            stored: new DynamoStoredState(documents, repair.stateTables),
            sink: new SqsEventSink(new SQSClient({ ...wiring.sqs }), repair.eventsQueueUrl),
          },
        }),
    webhookUrls: wiring.webhookUrls,
    apiFor: clientOf,
    now: () => Date.now(),
  };
};

export const handler: GuardianHandler = builtOnFirstCall(() =>
  createGuardianHandler({
    ...guardianDependencies(loadGuardianConfig()),
    metrics: new Metrics(GUARDIAN_METRICS.options),
    logger: createLogger('guardian'),
  }),
);
