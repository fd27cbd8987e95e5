// The persist function's secondary adapters: the event log and state tables in DynamoDB.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StateTableName } from '../../lib/definitions/tables.js';
import type { EventLog, EventRecord, StateStore, StateWrite } from './ports.js';

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoEventLog implements EventLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(record: EventRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record.attributes, pk: record.pk, sk: record.sk },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** Builds the UpdateItem expression of a guarded write. */
const toUpdateExpression = (write: StateWrite) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':order': write.orderKey };
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
    ConditionExpression: `attribute_not_exists(${guardPath}) OR ${guardPath} < :order`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

export class DynamoStateStore implements StateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableNames: Readonly<Record<StateTableName, string>>,
  ) {}

  async apply(write: StateWrite): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableNames[write.table],
          Key: { id: write.id },
          ...toUpdateExpression(write),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
