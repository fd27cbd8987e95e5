// The ingest function's settings, read and checked once, when the module-scope handler is first built.

import { ENV, EVENTS_QUEUE, PAYLOAD_CAP } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv, toWholeNumber } from '../shared/env.js';

// Room kept for the message attributes, which SQS counts toward the message size.
const ATTRIBUTE_ALLOWANCE_BYTES = 1024;

export interface IngestConfig {
  readonly queueUrl: string;
  readonly webhooksTable: string;
  readonly tokenCacheMs: number;
  readonly maxBodyBytes: number;
  /** The payload cap: a `data` larger than this, as JSON or as DynamoDB encodes it, is answered 413. */
  readonly maxPayloadBytes: number;
}

export const loadIngestConfig = (source?: Readonly<Record<string, string | undefined>>): IngestConfig => {
  const env = readEnv(
    {
      queueUrl: { name: ENV.eventsQueueUrl },
      webhooksTable: { name: tableEnvName('webhooks') },
      tokenCacheSeconds: { name: ENV.tokenCacheSeconds, default: '60' },
      maxPayloadBytes: { name: ENV.maxPayloadBytes, default: String(PAYLOAD_CAP.defaultBytes) },
    },
    source,
  );
  const maxPayloadBytes = toWholeNumber(ENV.maxPayloadBytes, env.maxPayloadBytes);
  // The stack's configuration checks the same range; this guards a function wired by hand.
  if (maxPayloadBytes < PAYLOAD_CAP.minBytes || maxPayloadBytes > PAYLOAD_CAP.maxBytes) {
    throw new Error(
      `${ENV.maxPayloadBytes} must be ${PAYLOAD_CAP.minBytes} to ${PAYLOAD_CAP.maxBytes}, got "${env.maxPayloadBytes}"`,
    );
  }
  return {
    queueUrl: env.queueUrl,
    webhooksTable: env.webhooksTable,
    tokenCacheMs: toWholeNumber(ENV.tokenCacheSeconds, env.tokenCacheSeconds) * 1000,
    maxBodyBytes: EVENTS_QUEUE.maxMessageSizeBytes - ATTRIBUTE_ALLOWANCE_BYTES,
    maxPayloadBytes,
  };
};
