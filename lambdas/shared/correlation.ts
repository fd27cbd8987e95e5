// The correlation id a queue message carries: the id of the webhook request that brought the event, for log lines.

import type { SQSRecord } from 'aws-lambda';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';

/** `{ correlation_id }` for a log line of the record, or nothing when the message carries none. */
export const correlationOf = (record: Pick<SQSRecord, 'messageAttributes'>): { correlation_id?: string } => {
  const id = record.messageAttributes?.[MESSAGE_ATTRIBUTES.correlationId]?.stringValue;
  return id === undefined || id === '' ? {} : { correlation_id: id };
};
