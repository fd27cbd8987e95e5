// The reconcile use case's secondary adapters: the events queue in SQS, the stored state in DynamoDB, and Aircall's
// list endpoints through the shared client.

import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FetchedResource } from '../../lib/definitions/fetched.js';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import type { StateTableName } from '../../lib/definitions/tables.js';
import type { AircallEnvelope } from '../shared/envelope.js';
import type { EventSink, StoredOrder, StoredState } from './ports.js';

/**
 * Queues fetched objects as persist reads webhook events: the envelope as the body (no token: it never had one),
 * the account and the time it was read as attributes. Ten to a SendMessageBatch, SQS's most.
 */
export class SqsEventSink implements EventSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  async send(account: string, envelopes: readonly AircallEnvelope[]): Promise<void> {
    for (let start = 0; start < envelopes.length; start += 10) {
      const batch = envelopes.slice(start, start + 10);
      const receivedAt = String(this.now());
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map(({ token: _token, ...envelope }, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(envelope),
            MessageAttributes: {
              [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: account },
              [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: receivedAt },
            },
          })),
        }),
      );
      // The code only: an entry's message could quote the body.
      if (Failed.length > 0)
        throw new Error(`${Failed.length} fetched events were not queued (${Failed[0]?.Code ?? 'no code'})`);
    }
  }
}

const TABLE_OF: Readonly<Record<FetchedResource, StateTableName>> = {
  call: 'calls',
  user: 'users',
  number: 'numbers',
  contact: 'contacts',
};

// BatchGetItem takes 100 keys at most.
const BATCH_KEYS = 100;

/** Owner and order key of stored items, read with BatchGetItem, unprocessed keys asked again. */
export class DynamoStoredState implements StoredState {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableNames: Readonly<Record<StateTableName, string>>,
  ) {}

  async orderKeys(
    resource: FetchedResource,
    ids: readonly (number | string)[],
  ): Promise<Map<string, StoredOrder>> {
    const tableName = this.tableNames[TABLE_OF[resource]];
    const found = new Map<string, StoredOrder>();
    for (let start = 0; start < ids.length; start += BATCH_KEYS) {
      let keys: Record<string, unknown>[] = [
        ...new Set(ids.slice(start, start + BATCH_KEYS).map(String)),
      ].map((id) => ({ id: Number(id) }));
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)));
        const { Responses = {}, UnprocessedKeys = {} } = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: keys,
                ProjectionExpression: '#id, #account, #order',
                ExpressionAttributeNames: { '#id': 'id', '#account': 'account', '#order': 'order_key' },
              },
            },
          }),
        );
        for (const item of Responses[tableName] ?? []) {
          found.set(String(item.id), {
            account: typeof item.account === 'string' ? item.account : undefined,
            orderKey: typeof item.order_key === 'string' ? item.order_key : undefined,
          });
        }
        keys = (UnprocessedKeys[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  }
}
