// How a target is named on the command line and read from a deployed stack's outputs.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { fromStackOutputs, parseTableOverrides, resolveTarget, tableOutputName } from '../../cli/target.js';
import { MEDIA_OUTPUTS } from '../../lib/definitions/media.js';
import { TABLE_NAMES } from '../../lib/definitions/tables.js';
import { devToken } from '../../local/dev-token.js';
import { writeStackRecord } from '../../local/discovery.js';
import { emptyDataDir, stackRecord } from './net.js';

describe('parseTableOverrides', () => {
  it('maps each logical table to the physical name given', () => {
    expect(parseTableOverrides(['calls=prod-calls', 'events=prod-events'])).toEqual({
      calls: 'prod-calls',
      events: 'prod-events',
    });
  });

  it.each([['calls'], ['calls='], ['agents=x'], ['calls=a=b']])('refuses %s', (value) => {
    expect(() => parseTableOverrides([value])).toThrow(UsageError);
  });
});

describe('fromStackOutputs', () => {
  const outputs = [
    ...TABLE_NAMES.map((t) => ({ OutputKey: tableOutputName(t), OutputValue: `Stack-${t}-ABC` })),
    {
      OutputKey: 'WebhookUrl',
      OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook',
    },
    { OutputKey: 'EventsQueueUrl', OutputValue: 'https://sqs/events' },
  ];

  it('reads every table name and the webhook URL from the outputs the stack declares', () => {
    const { tables, webhookUrl } = fromStackOutputs(outputs, {});

    expect(tables.calls).toBe('Stack-calls-ABC');
    expect(tables.webhooks).toBe('Stack-webhooks-ABC');
    expect(Object.keys(tables).sort()).toEqual([...TABLE_NAMES].sort());
    expect(webhookUrl).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook');
    expect(tableOutputName('calls')).toBe('CallsTableName');
  });

  it('lets a --table override win over the output', () => {
    expect(fromStackOutputs(outputs, { calls: 'copy-of-calls' }).tables.calls).toBe('copy-of-calls');
  });

  it('reads every webhook URL the guardian keeps from WebhookUrls, when the stack publishes it', () => {
    const apiUrl = 'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook';
    const withUrls = [
      ...outputs,
      { OutputKey: 'WebhookUrls', OutputValue: `${apiUrl},https://hooks.example.com/aircall` },
    ];
    expect(fromStackOutputs(withUrls, {}).webhookUrls).toEqual([apiUrl, 'https://hooks.example.com/aircall']);
    expect(fromStackOutputs(outputs, {})).not.toHaveProperty('webhookUrls');
  });

  it('reads the media bucket and its dead-letter queue from the outputs the media archive declares', () => {
    const withMedia = [
      ...outputs,
      { OutputKey: MEDIA_OUTPUTS.bucket, OutputValue: 'stack-mediabucket-abc' },
      { OutputKey: MEDIA_OUTPUTS.deadLetterQueue, OutputValue: 'https://sqs/media-dlq' },
    ];

    expect(fromStackOutputs(withMedia, {})).toMatchObject({
      mediaBucket: 'stack-mediabucket-abc',
      mediaDeadLetterQueueUrl: 'https://sqs/media-dlq',
    });
    expect(fromStackOutputs(outputs, {})).not.toHaveProperty('mediaBucket');
  });

  it('reads the events queue URL from EventsQueueUrl', () => {
    expect(fromStackOutputs(outputs, {}).eventsQueueUrl).toBe('https://sqs/events');
  });

  it('leaves out tables the stack does not publish', () => {
    expect(fromStackOutputs([], {})).toEqual({ tables: {}, webhookUrl: undefined });
  });
});

describe('resolveTarget: local', () => {
  it('finds the local stack through the same variables as npm start, tables by their local names', async () => {
    const target = await resolveTarget({
      DATA_DIR: await emptyDataDir(),
      DYNAMODB_PORT: '8123',
      PORT: '3100',
      WEBHOOK_PATH: '/hooks',
    })({ tables: { calls: 'other-calls' } });
    target.close();

    expect(target.localEndpoint).toBe('http://127.0.0.1:8123');
    expect(target.webhookUrl).toBe('http://127.0.0.1:3100/hooks');
    expect(target.tables).toMatchObject({ calls: 'other-calls', events: 'events-v2', users: 'users' });
  });

  it('knows no token for a DATA_DIR no stack has started on: there is no well-known default', async () => {
    const target = await resolveTarget({ DATA_DIR: await emptyDataDir() })({ tables: {} });
    target.close();

    expect(target.webhookToken).toBeUndefined();
  });

  it('takes the token a stack keeps in DATA_DIR when no record is there, and LOCAL_WEBHOOK_TOKEN over it', async () => {
    const dataDir = await emptyDataDir();
    const kept = await devToken(dataDir);
    const found = await resolveTarget({ DATA_DIR: dataDir })({ tables: {} });
    const named = await resolveTarget({ DATA_DIR: dataDir, LOCAL_WEBHOOK_TOKEN: 'named-token' })({
      tables: {},
    });
    found.close();
    named.close();

    expect(found.webhookToken).toBe(kept);
    expect(named.webhookToken).toBe('named-token');
    expect(found.label).not.toContain(kept);
  });
});

describe('resolveTarget: local media bucket', () => {
  const dynamodb = 'http://127.0.0.1:8123';
  const tables = Object.fromEntries(TABLE_NAMES.map((t) => [t, t])) as Record<
    (typeof TABLE_NAMES)[number],
    string
  >;

  it('takes the bucket and dead-letter queue a running stack recorded', async () => {
    const dataDir = await emptyDataDir();
    const record = stackRecord({ dynamodb, tables });
    await writeStackRecord(dataDir, {
      ...record,
      media: {
        bucket: 'recorded-media',
        queueUrl: 'http://q/media',
        deadLetterQueueUrl: 'http://q/media-dlq',
      },
    });
    const target = await resolveTarget({ DATA_DIR: dataDir })({ tables: {} });
    target.close();

    expect(target.media?.name).toBe('recorded-media');
    expect(target.media?.deadLetterQueueUrl).toBe('http://q/media-dlq');
  });

  it('knows no bucket of a running stack whose record names none, as one older than the archive', async () => {
    const dataDir = await emptyDataDir();
    await writeStackRecord(dataDir, stackRecord({ dynamodb, tables }));
    const target = await resolveTarget({ DATA_DIR: dataDir })({ tables: {} });
    target.close();

    expect(target.media).toBeUndefined();
  });

  it('takes the bucket the local settings name when no stack has recorded one', async () => {
    const target = await resolveTarget({ DATA_DIR: await emptyDataDir() })({ tables: {} });
    target.close();

    expect(target.media?.name).toBe('media');
  });

  it('takes the events queue a running stack recorded, and knows none for tables named by hand', async () => {
    const dataDir = await emptyDataDir();
    const record = stackRecord({ dynamodb, tables });
    await writeStackRecord(dataDir, record);
    const local = await resolveTarget({ DATA_DIR: dataDir })({ tables: {} });
    const byHand = await resolveTarget({})({ region: 'eu-west-1', tables: { calls: 'prod-calls' } });
    local.close();
    byHand.close();

    expect(await local.eventsQueue?.url()).toBe(record.queues.queueUrl);
    expect(byHand.eventsQueue).toBeUndefined();
  });

  it('knows no bucket for tables named by hand in a region', async () => {
    const target = await resolveTarget({})({ region: 'eu-west-1', tables: { calls: 'prod-calls' } });
    target.close();

    expect(target.media).toBeUndefined();
  });
});
