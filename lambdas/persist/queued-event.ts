// Parses an SQS record written by ingest into a typed queued event, at the edge of the persist function.

import type { SQSRecord } from 'aws-lambda';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import { parseEnvelope } from '../shared/envelope.js';
import { MalformedRecordError } from '../shared/errors.js';
import type { QueuedEvent } from './ports.js';

const MAX_RECEIVED_AT = 1e13;

export const parseQueuedRecord = (
  record: Pick<SQSRecord, 'body' | 'messageAttributes' | 'attributes'>,
): QueuedEvent => {
  const account = record.messageAttributes[MESSAGE_ATTRIBUTES.account]?.stringValue;
  if (account === undefined || account === '')
    throw new MalformedRecordError('record has no account attribute');
  const receivedAt = Number(
    record.messageAttributes[MESSAGE_ATTRIBUTES.receivedAt]?.stringValue ?? record.attributes.SentTimestamp,
  );
  // Epoch milliseconds of 13 digits at most (up to the year 2286): what a day and a receipt's key are made from.
  if (!Number.isSafeInteger(receivedAt) || receivedAt <= 0 || receivedAt >= MAX_RECEIVED_AT) {
    throw new MalformedRecordError('record has no usable receive time');
  }
  try {
    // parseEnvelope keeps integers beyond 2^53 as the digits ingest received (JSON.parse source text access), so
    // a 64-bit id reaches the tables unrounded. The body carries no token: ingest cut it out.
    const correlationId = record.messageAttributes[MESSAGE_ATTRIBUTES.correlationId]?.stringValue;
    return {
      envelope: parseEnvelope(record.body),
      account,
      receivedAt,
      ...(correlationId === undefined || correlationId === '' ? {} : { correlationId }),
    };
  } catch (error) {
    throw new MalformedRecordError('record body is not an Aircall envelope', { cause: error });
  }
};
