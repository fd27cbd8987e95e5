// The DynamoDB adapters of persist against canned DynamoDB answers: what they ask for, and how they read the reply.
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HttpResponse } from '@smithy/core/transport';
import { describe, expect, it } from 'vitest';
import { DynamoEventLog, DynamoStateStore } from '../../lambdas/persist/adapters.js';
import { RejectedWriteError, type StateWrite } from '../../lambdas/persist/ports.js';
import { perStateTable } from '../../lib/definitions/tables.js';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const conditionFailed = (item?: Record<string, unknown>): Answer => ({
  status: 400,
  body: {
    __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
    message: 'The conditional request failed',
    ...(item === undefined ? {} : { Item: item }),
  },
});

/** A document client whose DynamoDB answers each request with the next canned answer, recording what it was sent. */
const cannedDynamo = (answers: readonly Answer[]) => {
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  let next = 0;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    endpoint: 'http://dynamodb.invalid',
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
        requests.push({
          target: request.headers['x-amz-target'] ?? '',
          // The SDK hands the serialized body over as bytes; reading them as text is this fake's job.
          body: JSON.parse(
            request.body instanceof Uint8Array
              ? // Through its buffer: Buffer.from(view) would call the view's valueOf, which the SDK's adapter warns on.
                Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString(
                  'utf8',
                )
              : String(request.body),
          ) as Record<string, unknown>,
        });
        const answer = answers[next++];
        if (answer === undefined) throw new Error('no canned answer left');
        return {
          response: new HttpResponse({
            statusCode: answer.status,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
          }),
        };
      },
    },
  });
  return { documents: DynamoDBDocumentClient.from(client), requests };
};

const TABLES = perStateTable((name) => `test-${name}`);

const write: StateWrite = {
  table: 'users',
  id: 736640,
  account: 'acme',
  guard: ['order_key'],
  orderKey: '0#001646392359#01#user.connected#abc',
  set: { account: 'acme', name: 'Koen' },
  remove: ['data_gz'],
};

describe('DynamoStateStore', () => {
  it('writes only an item that is absent or the account’s, asking for the old item and the capacity', async () => {
    const { documents, requests } = cannedDynamo([
      { status: 200, body: { ConsumedCapacity: { TableName: 'test-users', CapacityUnits: 2 } } },
    ]);

    expect(await new DynamoStateStore(documents, TABLES).apply(write)).toEqual({
      outcome: 'applied',
      writeUnits: 2,
    });

    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('DynamoDB_20120810.UpdateItem');
    expect(requests[0]?.body).toMatchObject({
      TableName: 'test-users',
      ConditionExpression:
        '(attribute_not_exists(#id) OR #account = :account) AND (attribute_not_exists(#g0) OR #g0 < :order)',
      ExpressionAttributeNames: { '#id': 'id', '#account': 'account', '#g0': 'order_key' },
      ExpressionAttributeValues: { ':account': { S: 'acme' }, ':order': { S: write.orderKey } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ReturnConsumedCapacity: 'TOTAL',
    });
  });

  it.each([
    ['stale', 'acme'],
    ['foreign', 'globex'],
  ])(
    'calls a failed write %s from the owner DynamoDB returns, marshalled as lib-dynamodb leaves it',
    async (outcome, owner) => {
      const { documents, requests } = cannedDynamo([
        conditionFailed({ id: { N: '736640' }, account: { S: owner } }),
      ]);

      expect(await new DynamoStateStore(documents, TABLES).apply(write)).toEqual({ outcome });
      expect(requests).toHaveLength(1);
    },
  );

  it('reads the owner with a consistent GetItem when DynamoDB returns no item with the failure', async () => {
    const { documents, requests } = cannedDynamo([
      conditionFailed(),
      { status: 200, body: { Item: { id: { N: '736640' }, account: { S: 'globex' } } } },
    ]);

    expect(await new DynamoStateStore(documents, TABLES).apply(write)).toEqual({ outcome: 'foreign' });

    expect(requests[1]).toEqual({
      target: 'DynamoDB_20120810.GetItem',
      body: {
        TableName: 'test-users',
        Key: { id: { N: '736640' } },
        ProjectionExpression: '#id, #account',
        ExpressionAttributeNames: { '#id': 'id', '#account': 'account' },
        ConsistentRead: true,
      },
    });
  });

  const probing: StateWrite = { ...write, table: 'calls', probe: ['recording_archive', 'voicemail_archive'] };

  it('asks for the written item when it probes, and says which probed attributes the item holds', async () => {
    const { documents, requests } = cannedDynamo([
      {
        status: 200,
        body: { Attributes: { id: { N: '736640' }, recording_archive: { M: { key: { S: 'k' } } } } },
      },
    ]);

    expect(await new DynamoStateStore(documents, TABLES).apply(probing)).toEqual({
      outcome: 'applied',
      present: ['recording_archive'],
    });
    expect(requests[0]?.body).toMatchObject({ ReturnValues: 'ALL_NEW' });
  });

  it('asks for nothing back when it does not probe', async () => {
    const { documents, requests } = cannedDynamo([{ status: 200, body: {} }]);
    await new DynamoStateStore(documents, TABLES).apply(write);
    expect(requests[0]?.body.ReturnValues).toBeUndefined();
  });

  it('reads the probed attributes from the item of a stale write, or with the owner when none came', async () => {
    const stale = cannedDynamo([
      conditionFailed({ id: { N: '736640' }, account: { S: 'acme' }, voicemail_archive: { M: {} } }),
    ]);
    expect(await new DynamoStateStore(stale.documents, TABLES).apply(probing)).toEqual({
      outcome: 'stale',
      present: ['voicemail_archive'],
    });

    const read = cannedDynamo([
      conditionFailed(),
      { status: 200, body: { Item: { id: { N: '736640' }, account: { S: 'acme' } } } },
    ]);
    expect(await new DynamoStateStore(read.documents, TABLES).apply(probing)).toEqual({
      outcome: 'stale',
      present: [],
    });
    expect(read.requests[1]?.body).toMatchObject({
      ProjectionExpression: '#id, #account, #p0, #p1',
      ExpressionAttributeNames: {
        '#id': 'id',
        '#account': 'account',
        '#p0': 'recording_archive',
        '#p1': 'voicemail_archive',
      },
    });
  });

  it('treats an item with no owner as another account’s', async () => {
    const { documents } = cannedDynamo([conditionFailed({ id: { N: '736640' } })]);

    expect(await new DynamoStateStore(documents, TABLES).apply(write)).toEqual({ outcome: 'foreign' });
  });

  it('refuses for good what DynamoDB rejects as invalid, and leaves anything else to a retry', async () => {
    const { documents } = cannedDynamo([
      {
        status: 400,
        body: {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: 'Item size to update has exceeded the maximum allowed size',
        },
      },
      {
        status: 400,
        body: { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' },
      },
    ]);
    const store = new DynamoStateStore(documents, TABLES);

    const rejected = store.apply(write);
    await expect(rejected).rejects.toBeInstanceOf(RejectedWriteError);
    await expect(rejected).rejects.toThrow(
      'DynamoDB refused the users write: Item size to update has exceeded the maximum allowed size',
    );
    await expect(store.apply(write)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('DynamoEventLog', () => {
  const row = {
    pk: 'user#736640',
    sk: '001646392359#01#user.connected#abc',
    attributes: { account: 'acme' },
  };

  it('reports the capacity a stored row consumed, and none for a duplicate', async () => {
    const { documents, requests } = cannedDynamo([
      { status: 200, body: { ConsumedCapacity: { TableName: 'events', CapacityUnits: 1 } } },
      conditionFailed(),
    ]);
    const log = new DynamoEventLog(documents, 'events');

    expect(await log.append(row)).toEqual({ stored: true, writeUnits: 1 });
    expect(await log.append(row)).toEqual({ stored: false });
    expect(requests[0]?.body).toMatchObject({ ReturnConsumedCapacity: 'TOTAL' });
  });

  it('refuses for good a row DynamoDB rejects as invalid', async () => {
    const { documents } = cannedDynamo([
      {
        status: 400,
        body: {
          __type: 'com.amazon.coral.validate#ValidationException',
          message:
            'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit',
        },
      },
    ]);

    await expect(new DynamoEventLog(documents, 'events').append(row)).rejects.toThrow(
      /^DynamoDB refused the event-log row: One or more parameter values were invalid: Size of hashkey/,
    );
  });
});
