// The dead-letter path two Lambdas share: a record that can never succeed goes to its queue's DLQ at once, unchanged,
// with why and when; the port, the SQS adapter and its bounded client.

import { type MessageAttributeValue, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import type { ClientTarget } from './aws.js';

/** A message attribute as it came with the record. */
export interface LetterAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: Uint8Array;
}

/** A record on its way to the dead-letter queue: body and attributes as received, plus why and when it failed. */
export interface DeadLetter {
  readonly body: string;
  readonly attributes: Readonly<Record<string, LetterAttribute>>;
  /** Short text naming the failure; never the payload. */
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly failedAt: number;
}

export interface DeadLetterQueue {
  /** Resolves once the queue holds the letter; rejects otherwise, so the record is retried instead. */
  send(letter: DeadLetter): Promise<void>;
}

/** The record's message attributes as SQS takes them back: Lambda hands binary values over as base64. */
export const letterAttributes = (record: SQSRecord): Record<string, LetterAttribute> =>
  Object.fromEntries(
    Object.entries(record.messageAttributes).map(([name, attribute]) => [
      name,
      {
        dataType: attribute.dataType,
        ...(attribute.stringValue === undefined ? {} : { stringValue: attribute.stringValue }),
        ...(attribute.binaryValue === undefined
          ? {}
          : { binaryValue: Buffer.from(attribute.binaryValue, 'base64') }),
      },
    ]),
  );

const toMessageAttribute = (attribute: DeadLetter['attributes'][string]): MessageAttributeValue => ({
  DataType: attribute.dataType,
  ...(attribute.stringValue === undefined ? {} : { StringValue: attribute.stringValue }),
  ...(attribute.binaryValue === undefined ? {} : { BinaryValue: attribute.binaryValue }),
});

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    const received = Object.entries(letter.attributes).map(
      ([name, attribute]) => [name, toMessageAttribute(attribute)] as const,
    );
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          ...Object.fromEntries(received),
          [DEAD_LETTER_ATTRIBUTES.failureReason]: { DataType: 'String', StringValue: letter.reason },
          [DEAD_LETTER_ATTRIBUTES.failedAt]: { DataType: 'Number', StringValue: String(letter.failedAt) },
        },
      }),
    );
  }
}

/** The client dead letters go through: a hung connection fails in seconds, and the endpoint decides where it sends. */
export const createDeadLetterClient = (target: ClientTarget = {}): SQSClient =>
  new SQSClient({
    ...target,
    useQueueUrlAsEndpoint: false,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });

export interface DeadLetterOptions {
  readonly queue: DeadLetterQueue;
  readonly now: () => number;
  readonly logger: { error(message: string, extra: Record<string, unknown>): void };
  /** How the log names the record and its failure, e.g. `record` and `not persisted`. */
  readonly subject: string;
  readonly failure: string;
  /** What the log may say of the record: ids and names, never its body. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Sends a record to the dead-letter queue, unchanged, with why and when. Resolves once the queue holds it; rejects
 * otherwise, so that the record is retried instead and nothing is lost.
 */
export const deadLetterRecord = async (
  record: SQSRecord,
  reason: string,
  options: DeadLetterOptions,
): Promise<void> => {
  const detail = { messageId: record.messageId, reason, ...options.detail };
  try {
    await options.queue.send({
      body: record.body,
      attributes: letterAttributes(record),
      reason,
      failedAt: options.now(),
    });
  } catch (error) {
    options.logger.error(`${options.subject} ${options.failure}, nor sent to the dead-letter queue`, {
      ...detail,
      error,
    });
    throw error;
  }
  options.logger.error(`${options.subject} sent to the dead-letter queue`, detail);
};
