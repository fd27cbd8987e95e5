// Lambda entry run on a schedule: one guardian pass over every account in the credentials secret.

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import { createLogger } from '../shared/logger.js';
import { AircallClient } from './aircall-client.js';
import { loadGuardianConfig } from './config.js';
import { parseCredentials } from './credentials.js';
import { DynamoWebhookRegistry } from './dynamo-registry.js';
import { type AccountReport, guardAccounts } from './guardian.js';

const config = loadGuardianConfig();
const logger = createLogger('guardian');
const metrics = new Metrics({ namespace: GUARDIAN.metricsNamespace, serviceName: 'guardian' });
const registry = new DynamoWebhookRegistry(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  config.webhooksTable,
);

const count = (reports: readonly AccountReport[], action: string): number =>
  reports.reduce(
    (sum, report) => sum + report.webhooks.filter((webhook) => webhook.action === action).length,
    0,
  );

// Left for metrics and logs after the accounts' time runs out, so a slow account cannot silence the run.
const REPORTING_RESERVE_MS = 10_000;

const logReport = (report: AccountReport): void => {
  // Outcomes carry ids, names, events and reasons only: no token ever reaches them.
  const level = !report.listed || report.webhooks.some((w) => w.action === 'failed') ? 'error' : 'info';
  logger[level]('guardian pass', { ...report });
};

export const handler = async (
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<AccountReport[]> => {
  const secret = await getSecret(config.secretId, { maxAge: GUARDIAN.secretCacheSeconds });
  if (typeof secret !== 'string') throw new Error('the Aircall credentials secret must be a JSON string');
  const accounts = parseCredentials(secret).map((credentials) => ({
    account: credentials.account,
    deps: {
      api: new AircallClient({
        credentials,
        baseUrl: config.aircallApiUrl,
        minIntervalMs: GUARDIAN.minRequestIntervalMs,
      }),
      registry,
      stackUrl: config.webhookUrl,
      now: () => Date.now(),
    },
  }));

  const reports = await guardAccounts(accounts, {
    timeoutMs: Math.max(1000, context.getRemainingTimeInMillis() - REPORTING_RESERVE_MS),
    onReport: logReport,
  });

  metrics.addMetric('WebhooksReenabled', MetricUnit.Count, count(reports, 'reenabled'));
  metrics.addMetric('WebhookReenableFailures', MetricUnit.Count, count(reports, 'failed'));
  metrics.addMetric(
    'AccountsUnreachable',
    MetricUnit.Count,
    reports.filter((report) => !report.listed).length,
  );
  metrics.publishStoredMetrics();
  return reports;
};
