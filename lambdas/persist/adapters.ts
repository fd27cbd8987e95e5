// The persist function's secondary adapters: the event log and state tables in DynamoDB, the media job queue in SQS.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import type { Receipt } from '../../lib/definitions/receipts.js';
import type { StateTableName } from '../../lib/definitions/tables.js';
import {
  type AppendResult,
  type EventLog,
  type EventRecord,
  type MediaJob,
  type MediaJobQueue,
  type ReceiptLog,
  RejectedWriteError,
  type StateResult,
  type StateStore,
  type StateWrite,
} from './ports.js';

const isConditionFailure = (error: unknown): error is Error & { Item?: unknown } =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

// Of DynamoDB's ValidationExceptions, those a retry could mend do not exist: an item over 400 KB, a key over its
// size limit, a number out of range, an expression DynamoDB does not accept are refused the same way every time.
const isValidationError = (error: unknown): error is Error =>
  error instanceof Error && error.name === 'ValidationException';

// DynamoDB's validation messages name limits and placeholders, not values; cut short all the same.
const REASON_CHARS = 200;

const rejected = (what: string, error: Error): RejectedWriteError =>
  new RejectedWriteError(`DynamoDB refused the ${what}: ${error.message.slice(0, REASON_CHARS)}`, {
    cause: error,
  });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The `account` of an item, unmarshalled or not: lib-dynamodb leaves the item of a failed condition as DynamoDB
 * sent it (`{ account: { S: 'acme' } }`, aws/aws-sdk-js-v3#6723), while a read returns it plain.
 */
const accountOf = (item: Record<string, unknown>): string | undefined => {
  const value = item.account;
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.S === 'string') return value.S;
  return undefined;
};

/** Of the probed attributes, those the item holds, as the `present` of a result; nothing when none was probed. */
const presentIn = (
  item: Record<string, unknown> | undefined,
  probe: readonly string[] | undefined,
): { present?: readonly string[] } =>
  probe === undefined ? {} : { present: probe.filter((name) => item?.[name] !== undefined) };

export class DynamoEventLog implements EventLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(record: EventRecord): Promise<AppendResult> {
    try {
      const { ConsumedCapacity } = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record.attributes, pk: record.pk, sk: record.sk },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const writeUnits = ConsumedCapacity?.CapacityUnits;
      return writeUnits === undefined ? { stored: true } : { stored: true, writeUnits };
    } catch (error) {
      if (isConditionFailure(error)) return { stored: false };
      if (isValidationError(error)) throw rejected('event-log row', error);
      throw error;
    }
  }
}

// BatchWriteItem takes 25 requests at most; what DynamoDB leaves unprocessed (throttling) is sent again, a few times.
const BATCH_WRITE_LIMIT = 25;
const UNPROCESSED_ATTEMPTS = 5;

/** Receipts in the events table, put whole: a receipt's key is the digest of what it lists, so a retry rewrites it. */
export class DynamoReceiptLog implements ReceiptLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly pause: (attempt: number) => Promise<void> = (attempt) =>
      new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt)),
  ) {}

  async write(receipts: readonly Receipt[]): Promise<void> {
    for (let start = 0; start < receipts.length; start += BATCH_WRITE_LIMIT) {
      let requests: { PutRequest: { Item: Record<string, unknown> } }[] = receipts
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((receipt) => ({ PutRequest: { Item: { ...receipt } } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === UNPROCESSED_ATTEMPTS)
          throw new Error(`DynamoDB left ${requests.length} receipts unprocessed ${attempt} times`);
        if (attempt > 0) await this.pause(attempt);
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[this.tableName] ?? []).flatMap((request) =>
          request.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: request.PutRequest.Item } }],
        );
      }
    }
  }
}

/** Builds the UpdateItem expression of a guarded write: the account must own the item, and the order key beat it. */
const toUpdateExpression = (write: StateWrite) => {
  const names: Record<string, string> = { '#id': 'id', '#account': 'account' };
  const values: Record<string, unknown> = { ':order': write.orderKey, ':account': write.account };
  const sets = Object.entries(write.set).map(([attribute, value], i) => {
    names[`#s${i}`] = attribute;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removes = write.remove.map((attribute, i) => {
    names[`#r${i}`] = attribute;
    return `#r${i}`;
  });
  const guardPath = write.guard
    .map((segment, i) => {
      names[`#g${i}`] = segment;
      return `#g${i}`;
    })
    .join('.');
  const update = [`SET ${sets.join(', ')}`, removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '']
    .join(' ')
    .trim();
  return {
    UpdateExpression: update,
    ConditionExpression:
      '(attribute_not_exists(#id) OR #account = :account) AND ' +
      `(attribute_not_exists(${guardPath}) OR ${guardPath} < :order)`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

export class DynamoStateStore implements StateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableNames: Readonly<Record<StateTableName, string>>,
  ) {}

  async apply(write: StateWrite): Promise<StateResult> {
    const { probe } = write;
    try {
      const { ConsumedCapacity, Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableNames[write.table],
          Key: { id: write.id },
          ...toUpdateExpression(write),
          ReturnConsumedCapacity: 'TOTAL',
          // The item as written, only when the caller asks what it holds: reading back costs no capacity, only bytes.
          ...(probe === undefined ? {} : { ReturnValues: 'ALL_NEW' }),
          // The stored item, on a failed condition: whose it is tells a stale write from a foreign one.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const writeUnits = ConsumedCapacity?.CapacityUnits;
      return {
        outcome: 'applied',
        ...(writeUnits === undefined ? {} : { writeUnits }),
        ...presentIn(Attributes, probe),
      };
    } catch (error) {
      if (isConditionFailure(error)) {
        const item = isRecord(error.Item) ? error.Item : await this.readOwner(write);
        const owner = accountOf(item);
        return { outcome: owner === write.account ? 'stale' : 'foreign', ...presentIn(item, probe) };
      }
      if (isValidationError(error)) throw rejected(`${write.table} write`, error);
      throw error;
    }
  }

  /**
   * The owner (and probed attributes) of an item whose write failed its condition, for a DynamoDB that returned no item with the failure
   * (dynalite ignores ReturnValuesOnConditionCheckFailure). The condition failed, so the item exists; and no write
   * ever changes an item's account, so this read cannot see an owner other than the one the condition met.
   */
  private async readOwner(write: StateWrite): Promise<Record<string, unknown>> {
    const probed = write.probe ?? [];
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableNames[write.table],
        Key: { id: write.id },
        ProjectionExpression: ['#id', '#account', ...probed.map((_, i) => `#p${i}`)].join(', '),
        ExpressionAttributeNames: {
          '#id': 'id',
          '#account': 'account',
          ...Object.fromEntries(probed.map((name, i) => [`#p${i}`, name])),
        },
        ConsistentRead: true,
      }),
    );
    // Gone since the write: only a hand deletion does that. Failing the record lets its retry start afresh.
    if (Item === undefined) throw new Error(`${write.table} item vanished while its write was checked`);
    return Item;
  }
}

/** The media job queue: one SendMessageBatch for the jobs of an event (two at most, a recording and a voicemail). */
export class SqsMediaJobQueue implements MediaJobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(jobs: readonly MediaJob[], correlationId?: string): Promise<void> {
    const attributes =
      correlationId === undefined
        ? {}
        : {
            MessageAttributes: {
              [MESSAGE_ATTRIBUTES.correlationId]: { DataType: 'String', StringValue: correlationId },
            },
          };
    for (let start = 0; start < jobs.length; start += 10) {
      const batch = jobs.slice(start, start + 10);
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((job, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(job),
            ...attributes,
          })),
        }),
      );
      // The code only: an entry's message could quote the body, whose link is a credential.
      if (Failed.length > 0)
        throw new Error(`${Failed.length} media jobs were not queued (${Failed[0]?.Code ?? 'no code'})`);
    }
  }
}
