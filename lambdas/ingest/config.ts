// The ingest function's settings, read and checked once at init.

import { ENV, EVENTS_QUEUE } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv, toWholeNumber } from '../shared/env.js';

// Room kept for the message attributes, which SQS counts toward the message size.
const ATTRIBUTE_ALLOWANCE_BYTES = 1024;

export interface IngestConfig {
  readonly queueUrl: string;
  readonly webhooksTable: string;
  readonly tokenCacheMs: number;
  readonly maxBodyBytes: number;
}

export const loadIngestConfig = (source?: Readonly<Record<string, string | undefined>>): IngestConfig => {
  const env = readEnv(
    {
      queueUrl: { name: ENV.eventsQueueUrl },
      webhooksTable: { name: tableEnvName('webhooks') },
      tokenCacheSeconds: { name: ENV.tokenCacheSeconds, default: '60' },
    },
    source,
  );
  return {
    queueUrl: env.queueUrl,
    webhooksTable: env.webhooksTable,
    tokenCacheMs: toWholeNumber(ENV.tokenCacheSeconds, env.tokenCacheSeconds) * 1000,
    maxBodyBytes: EVENTS_QUEUE.maxMessageSizeBytes - ATTRIBUTE_ALLOWANCE_BYTES,
  };
};
