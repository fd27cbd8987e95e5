// The persist handler against the embedded emulators, fed records the real ingest handler put on the queue.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExactInteger } from '../../lib/definitions/json.js';
import { PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import type { TableName } from '../../lib/definitions/tables.js';
import { registerToken } from '../../local/provision.js';
import { sampleToken, withFields } from '../support/bodies.js';
import { captureOutput } from '../support/capture.js';
import { type SampleName, sampleBody } from '../support/fixtures.js';
import {
  drainQueue,
  lambdaContext,
  receiveRecords,
  sqsEvent,
  webhookRequest,
} from '../support/lambda-events.js';
import { type IngestHandler, type PersistHandler, startStack, type TestStack } from '../support/stack.js';
import { clearTable, getItem, type Item, queryPartition, scanEvents, scanTable } from '../support/tables.js';

const ACCOUNT = 'acme-eu';
/** Another company on the same deployment, with a valid token of its own. */
const OTHER_ACCOUNT = 'globex';
const OTHER_TOKEN = 'globex-webhook-token-3b9e';
const CALL_ID = 780836699;
/** The largest timestamp JSON carries exactly: what a forger sends to outrank every real event. */
const FAR_FUTURE = 9007199254740991;
const LIFECYCLE: readonly SampleName[] = [
  'captured-outbound-call.created',
  'captured-outbound-call.hungup',
  'captured-outbound-call.ended',
];
const STATE_AND_EVENTS: readonly TableName[] = ['calls', 'events', 'users', 'numbers', 'contacts'];

/** A sample with fields of its envelope and of its data replaced; sent with another account's token if named. */
const variant = (
  name: SampleName,
  change: { event?: string; timestamp?: number; data?: Record<string, unknown>; fromOther?: boolean },
): string => {
  const envelope = JSON.parse(sampleBody(name)) as { timestamp: number; data: Record<string, unknown> };
  return withFields(sampleBody(name), {
    ...(change.event === undefined ? {} : { event: change.event }),
    ...(change.timestamp === undefined ? {} : { timestamp: change.timestamp }),
    data: { ...envelope.data, ...change.data },
    ...(change.fromOther === true ? { token: OTHER_TOKEN } : {}),
  });
};
const timestampOf = (name: SampleName): number =>
  (JSON.parse(sampleBody(name)) as { timestamp: number }).timestamp;

/** The EMF documents in captured output, as CloudWatch would read them from the log. */
const emfOf = (output: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** A port nothing listens on: connections to it are refused at once. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

describe('persist handler', () => {
  let stack: TestStack;
  let ingest: IngestHandler;
  let persist: PersistHandler;

  /** Sends each body through the real ingest handler and receives what it enqueued, as Lambda would. */
  const deliver = async (bodies: readonly string[]): Promise<SQSRecord[]> => {
    for (const body of bodies) {
      const { result } = await captureOutput(() => ingest(webhookRequest(body)));
      expect(result.statusCode).toBe(200);
    }
    const records = await receiveRecords(stack.sqs, stack.queues.queueUrl, stack.queues.queueArn);
    expect(records).toHaveLength(bodies.length);
    return records;
  };
  const samples = (names: readonly SampleName[]) => deliver(names.map((name) => sampleBody(name)));
  const runCaptured = (records: readonly SQSRecord[], handler: PersistHandler = persist) =>
    captureOutput(() => handler(sqsEvent(records), lambdaContext('persist')));
  const run = async (records: readonly SQSRecord[], handler: PersistHandler = persist) =>
    (await runCaptured(records, handler)).result;
  const deadLetters = () =>
    receiveRecords(stack.sqs, stack.queues.deadLetterQueueUrl, stack.queues.deadLetterQueueArn);
  /** Puts a body on the queue as ingest would, without its token, and receives it: what ingest may not refuse. */
  const enqueue = async (body: string): Promise<SQSRecord> => {
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.queueUrl,
        MessageBody: withFields(body, { token: undefined }),
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: ACCOUNT },
          [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: String(Date.now()) },
        },
      }),
    );
    const [record, ...others] = await receiveRecords(stack.sqs, stack.queues.queueUrl, stack.queues.queueArn);
    if (record === undefined || others.length > 0) throw new Error('expected exactly one record');
    return record;
  };
  // Ingest queues the sample's text without its token member.
  const byBody = (records: readonly SQSRecord[], name: SampleName): SQSRecord[] =>
    records.filter((r) => r.body === sampleBody(name).replace(/,\s*"token":\s*"[^"]*"/, ''));
  const call = (id: number) => getItem(stack.documents, stack.tables.calls, { id });
  const callEvents = (id: number) =>
    queryPartition(stack.documents, stack.tables.events, { name: 'pk', value: `call#${id}` });

  beforeAll(async () => {
    stack = await startStack();
    const senders: SampleName[] = ['captured-outbound-call.ended', 'documented-number.closed'];
    const tokens = new Set(senders.map(sampleToken));
    for (const token of tokens) await registerToken(stack.dynamo, stack.tables.webhooks, token, ACCOUNT);
    await registerToken(stack.dynamo, stack.tables.webhooks, OTHER_TOKEN, OTHER_ACCOUNT);
    ingest = stack.ingest();
    persist = stack.persist();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await drainQueue(stack.sqs, stack.queues.queueUrl);
    await drainQueue(stack.sqs, stack.queues.deadLetterQueueUrl);
    for (const table of STATE_AND_EVENTS) await clearTable(stack.documents, table, stack.tables[table]);
  });

  it.each([
    ['in one batch', (records: SQSRecord[]) => [records]],
    ['one record per batch', (records: SQSRecord[]) => records.map((r) => [r])],
  ])(
    'keeps one done call and its three events in order when the lifecycle arrives shuffled and twice, %s',
    async (_plan, toBatches) => {
      const records = await samples([...LIFECYCLE, ...LIFECYCLE]);
      const [created, hungup, ended] = LIFECYCLE.map((name) => byBody(records, name));
      // Ended first and created last, each copy apart from its twin: the worst order a queue can deliver.
      const shuffled = [ended?.[0], hungup?.[1], created?.[0], ended?.[1], hungup?.[0], created?.[1]].filter(
        (r): r is SQSRecord => r !== undefined,
      );
      expect(shuffled).toHaveLength(6);

      const failures = [];
      for (const batch of toBatches(shuffled)) failures.push(...(await run(batch)).batchItemFailures);

      expect(failures).toEqual([]);
      expect(await scanTable(stack.documents, stack.tables.calls)).toHaveLength(1);
      expect(await call(CALL_ID)).toMatchObject({
        id: CALL_ID,
        account: ACCOUNT,
        direction: 'outbound',
        status: 'done',
        last_event: 'call.ended',
        last_event_at: 1646389786,
        duration: 20,
        started_at: 1646389735,
        answered_at: 1646389740,
        ended_at: 1646389755,
        user_id: 736640,
        number_id: 404821,
        raw_digits: '+43 720 880079',
        account_day: `${ACCOUNT}#2022-03-04`,
        data: expect.objectContaining({ id: CALL_ID, status: 'done', duration: 20 }),
      });
      expect(await call(CALL_ID)).not.toHaveProperty('account_missed_day');
      const events = await callEvents(CALL_ID);
      expect(events.map((e) => e.event)).toEqual(['call.created', 'call.hungup', 'call.ended']);
      expect(events.map((e) => e.timestamp)).toEqual([1646389737, 1646389755, 1646389786]);
    },
  );

  it('changes nothing when a stored event is delivered again, by SQS or by an Aircall retry', async () => {
    const [first] = await samples(['captured-outbound-call.ended']);
    if (first === undefined) throw new Error('nothing delivered');
    expect((await run([first])).batchItemFailures).toEqual([]);
    const callBefore = await call(CALL_ID);
    const eventsBefore = await callEvents(CALL_ID);

    const retried = await samples(['captured-outbound-call.ended']);
    const response = await run([first, ...retried]);

    expect(response.batchItemFailures).toEqual([]);
    expect(callBefore).toBeDefined();
    expect(await call(CALL_ID)).toEqual(callBefore);
    expect(eventsBefore).toHaveLength(1);
    expect(await callEvents(CALL_ID)).toEqual(eventsBefore);
  });

  it.each([
    [
      'a body that is not an Aircall envelope',
      '{"hello":"world"}',
      true,
      'record body is not an Aircall envelope',
    ],
    [
      'a record without the account attribute',
      sampleBody('captured-user.created'),
      false,
      'record has no account attribute',
    ],
  ])(
    'sends %s to the dead-letter queue on its first receive, unchanged, and stores the rest of the batch',
    async (_case, body, withAccount, reason) => {
      const valid = await samples(['captured-user.connected', 'captured-contact.created']);
      const receivedAt = String(Date.now());
      const { MessageId: malformedId } = await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queues.queueUrl,
          MessageBody: body,
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: receivedAt },
            ...(withAccount
              ? { [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: ACCOUNT } }
              : {}),
          },
        }),
      );
      const [malformed] = await receiveRecords(stack.sqs, stack.queues.queueUrl, stack.queues.queueArn);
      if (malformed === undefined) throw new Error('malformed record not received');
      expect(malformed.messageId).toBe(malformedId);
      expect(malformed.attributes.ApproximateReceiveCount).toBe('1');
      const before = Date.now();

      const { result, output } = await runCaptured(
        [valid[0], malformed, valid[1]].filter((r): r is SQSRecord => r !== undefined),
      );

      expect(result.batchItemFailures).toEqual([]);
      const [letter, ...others] = await deadLetters();
      expect(others).toEqual([]);
      expect(letter?.body).toBe(body);
      expect(letter?.messageAttributes).toMatchObject({
        ...malformed.messageAttributes,
        [DEAD_LETTER_ATTRIBUTES.failureReason]: { dataType: 'String', stringValue: reason },
        [DEAD_LETTER_ATTRIBUTES.failedAt]: { dataType: 'Number' },
      });
      const failedAt = Number(letter?.messageAttributes[DEAD_LETTER_ATTRIBUTES.failedAt]?.stringValue);
      expect(failedAt).toBeGreaterThanOrEqual(before);
      expect(failedAt).toBeLessThanOrEqual(Date.now());
      expect(output).toMatch(/"message":"record sent to the dead-letter queue".*"reason":"record/);
      expect(output).not.toContain(sampleToken('captured-user.created'));
      expect(await getItem(stack.documents, stack.tables.users, { id: 736640 })).toBeDefined();
      expect(await getItem(stack.documents, stack.tables.contacts, { id: 76041687 })).toBeDefined();
      expect(await scanTable(stack.documents, stack.tables.users)).toHaveLength(1);
      expect(await scanEvents(stack.documents, stack.tables.events)).toHaveLength(2);
    },
  );

  it.each([
    [
      'an event-log key over the size limit',
      withFields(sampleBody('captured-user.created'), {
        resource: 'hologram',
        event: 'hologram.projected',
        data: { id: 'x'.repeat(3000) },
      }),
      /^the event cannot be stored: "resource" and "data.id" are longer together than the event log's 2048-byte partition key allows$/,
    ],
    [
      'an event-log row over 400 KB even gzipped',
      withFields(sampleBody('captured-user.created'), {
        resource: 'hologram',
        event: 'hologram.projected',
        data: { id: 8, noise: randomBytes(450_000).toString('base64') },
      }),
      /^the event cannot be stored: "data" is \d+ bytes of JSON, over the 65536 stored/,
    ],
    [
      "a call whose duration is out of DynamoDB's number range",
      variant('captured-outbound-call.ended', { data: { duration: 1e200 } }),
      /^the event cannot be stored: "data.duration" is a number of a magnitude above DynamoDB’s/,
    ],
  ])(
    'sends %s to the dead-letter queue on its first receive, with the reason ingest would have refused it for',
    async (_case, body, reason) => {
      const record = await enqueue(body);

      const { result, output } = await runCaptured([record]);

      expect(result.batchItemFailures).toEqual([]);
      const [letter, ...others] = await deadLetters();
      expect(others).toEqual([]);
      expect(letter?.body).toBe(record.body);
      expect(letter?.messageAttributes[MESSAGE_ATTRIBUTES.account]?.stringValue).toBe(ACCOUNT);
      expect(letter?.messageAttributes[MESSAGE_ATTRIBUTES.receivedAt]).toEqual(
        record.messageAttributes[MESSAGE_ATTRIBUTES.receivedAt],
      );
      const stated = letter?.messageAttributes[DEAD_LETTER_ATTRIBUTES.failureReason]?.stringValue ?? '';
      expect(stated).toMatch(reason);
      expect(stated.length).toBeLessThanOrEqual(250);
      expect(output).toContain('"message":"record sent to the dead-letter queue"');
      expect(output).not.toContain(sampleToken('captured-user.created'));
    },
  );

  it('reports a permanent failure as failed when the dead-letter queue cannot take it, so nothing is lost', async () => {
    const tooLongKey = withFields(sampleBody('captured-user.created'), {
      resource: 'hologram',
      event: 'hologram.projected',
      data: { id: 'x'.repeat(3000) },
    });
    const record = await enqueue(tooLongKey);
    const isolated = stack.persist({
      deadLetters: { ...stack.targets.sqs, endpoint: `http://127.0.0.1:${await closedPort()}` },
    });

    const { result, output } = await runCaptured([record], isolated);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(output).toContain('"message":"record not persisted, nor sent to the dead-letter queue"');
    expect(await deadLetters()).toEqual([]);
  });

  it.each<[SampleName, TableName, number, Item]>([
    [
      'captured-user.connected',
      'users',
      736640,
      {
        name: 'Koen Test RrNuYErJ74',
        email: 'koen.verduijn+v5doewlrdy@aircall.io',
        available: true,
        availability_status: 'available',
        deleted: false,
        last_event: 'user.connected',
      },
    ],
    [
      'documented-number.closed',
      'numbers',
      456,
      {
        name: 'My first Aircall Number',
        digits: '+33 1 76 36 06 95',
        open: false,
        deleted: false,
        last_event: 'number.closed',
      },
    ],
    [
      'captured-contact.created',
      'contacts',
      76041687,
      {
        first_name: 'Koen Test',
        last_name: 'FuPPaYFelC',
        company_name: 'SE Global Account',
        is_shared: true,
        deleted: false,
        last_event: 'contact.created',
      },
    ],
  ])('stores %s as the current state in %s', async (name, table, id, expected) => {
    const response = await run(await samples([name]));

    expect(response.batchItemFailures).toEqual([]);
    const items = await scanTable(stack.documents, stack.tables[table]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id,
      account: ACCOUNT,
      ...expected,
      data: expect.objectContaining({ id }),
    });
  });

  it('stores an event whose data holds a 64-bit number, and the call it describes', async () => {
    // As Aircall would send it: the 64-bit id is JSON text, which JSON.parse can only round.
    const body = sampleBody('captured-outbound-call.ended').replace(
      '"tags": []',
      '"tags": [{ "id": 12345678901234567890, "name": "big-id" }]',
    );
    expect(body).toContain('12345678901234567890');
    const records = await deliver([body]);
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(await call(CALL_ID)).toMatchObject({ tags: [{ name: 'big-id' }], last_event: 'call.ended' });
    expect(await callEvents(CALL_ID)).toHaveLength(1);
  });

  it('keeps a 64-bit id as sent, from the webhook through the queue to the call and the event log', async () => {
    // 2^53 + 1: JSON.parse alone would read 9007199254740992.
    const body = sampleBody('captured-outbound-call.ended').replace(
      '"tags": []',
      '"tags": [{ "id": 9007199254740993, "name": "big-id" }]',
    );
    const records = await deliver([body]);
    expect(records[0]?.body).toContain('"id": 9007199254740993');
    expect(records[0]?.body).not.toContain(sampleToken('captured-outbound-call.ended'));

    expect((await run(records)).batchItemFailures).toEqual([]);

    // The document client reads a number beyond 2^53 back as a BigInt, digit for digit; the compressed data reads
    // it back as the ExactInteger of its digits.
    const exact = new ExactInteger('9007199254740993');
    const stored = await call(CALL_ID);
    expect(stored).toMatchObject({
      tags: [{ id: 9007199254740993n, name: 'big-id' }],
      data: expect.objectContaining({ tags: [{ id: exact, name: 'big-id' }] }),
    });
    const [logged] = await callEvents(CALL_ID);
    expect(logged?.data).toMatchObject({ id: CALL_ID, tags: [{ id: exact, name: 'big-id' }] });
  });

  it('stores an unanswered inbound voicemail call as missed, with no user', async () => {
    const id = 780836754;

    const response = await run(await samples(['captured-inbound-voicemail-call.ended']));

    expect(response.batchItemFailures).toEqual([]);
    const stored = await call(id);
    expect(stored).toMatchObject({
      id,
      direction: 'inbound',
      status: 'done',
      missed_call_reason: 'agents_did_not_answer',
      number_id: 397375,
      account_day: `${ACCOUNT}#2022-03-04`,
      account_missed_day: `${ACCOUNT}#2022-03-04`,
      voicemail: expect.stringContaining('voicemail.mp3'),
    });
    expect(stored).not.toHaveProperty('user_id');
    expect(stored).not.toHaveProperty('answered_at');
  });

  it.each([
    ['an integration.deleted event', sampleBody('documented-integration.deleted'), 'integration#-'],
    [
      'an event of a resource nobody has heard of',
      withFields(sampleBody('captured-user.created'), {
        resource: 'hologram',
        event: 'hologram.projected',
        data: { id: 7, colour: 'teal' },
      }),
      'hologram#7',
    ],
  ])('keeps %s in the event log and fails nothing', async (_case, body, pk) => {
    const response = await run(await deliver([body]));

    expect(response.batchItemFailures).toEqual([]);
    const events = await queryPartition(stack.documents, stack.tables.events, { name: 'pk', value: pk });
    expect(events).toHaveLength(1);
    const { token: _token, ...sent } = JSON.parse(body) as Record<string, unknown>;
    expect(events[0]).toMatchObject({ account: ACCOUNT, ...sent });
    expect(events[0]).not.toHaveProperty('token');
    for (const table of ['calls', 'users', 'numbers', 'contacts'] as const) {
      expect(await scanTable(stack.documents, stack.tables[table])).toEqual([]);
    }
  });

  it('reports every record failed, quickly, when DynamoDB is unreachable', async () => {
    const records = await samples([
      'captured-outbound-call.created',
      'captured-user.connected',
      'captured-contact.created',
    ]);
    const deadEndpoint = `http://127.0.0.1:${await closedPort()}`;

    // One attempt: the point is what the handler reports, not how long the SDK's backoff takes.
    const isolated = stack.persist({
      dynamo: new DynamoDBClient({ ...stack.targets.dynamo, endpoint: deadEndpoint, maxAttempts: 1 }),
    });
    const { result, elapsedMs } = await captureOutput(() =>
      isolated(sqsEvent(records), lambdaContext('persist')),
    );

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(elapsedMs).toBeLessThan(2000);
    expect(await scanEvents(stack.documents, stack.tables.events)).toEqual([]);
    expect(await deadLetters()).toEqual([]);
  });

  describe('between accounts', () => {
    /** Each kind of state item, and the event another account would forge to delete or end it. */
    const OWNED: readonly [SampleName, TableName, string, number, string][] = [
      ['captured-outbound-call.ended', 'calls', 'call', CALL_ID, 'call.archived'],
      ['captured-user.connected', 'users', 'user', 736640, 'user.deleted'],
      ['documented-number.closed', 'numbers', 'number', 456, 'number.deleted'],
      ['captured-contact.created', 'contacts', 'contact', 76041687, 'contact.deleted'],
    ];

    it.each(OWNED)(
      "refuse another account's change, deletion and future timestamp of %s and apply the owner's later events",
      async (name, table, resource, id, deletion) => {
        const item = () => getItem(stack.documents, stack.tables[table], { id });
        expect((await run(await deliver([sampleBody(name)]))).batchItemFailures).toEqual([]);
        const owned = await item();
        const sent = timestampOf(name);
        const attacks = [
          variant(name, { timestamp: sent + 60, data: { name: 'taken over by globex' }, fromOther: true }),
          variant(name, { event: deletion, timestamp: sent + 60, fromOther: true }),
          variant(name, { timestamp: FAR_FUTURE, data: { name: 'poisoned by globex' }, fromOther: true }),
        ];

        const { result, output } = await runCaptured(await deliver(attacks));

        expect(result.batchItemFailures).toEqual([]);
        expect(owned).toMatchObject({ id, account: ACCOUNT });
        expect(await item()).toEqual(owned);
        const refusals = output
          .split('\n')
          .filter((line) => line.includes('"message":"foreign write refused"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(refusals.map((r) => r.event).sort()).toEqual(
          attacks.map((a) => (JSON.parse(a) as { event: string }).event).sort(),
        );
        for (const refusal of refusals) {
          expect(refusal).toMatchObject({ level: 'WARN', account: OTHER_ACCOUNT, resource, table, id });
          expect(refusal.reason).toEqual(expect.any(String));
        }
        for (const secret of ['taken over by globex', 'poisoned by globex', OTHER_TOKEN])
          expect(output).not.toContain(secret);
        expect(emfOf(output)).toContainEqual(
          expect.objectContaining({
            ...PERSIST_METRICS.dimensions,
            [PERSIST_METRICS.names.foreignWritesRefused]: attacks.length,
          }),
        );
        const logged = await queryPartition(stack.documents, stack.tables.events, {
          name: 'pk',
          value: `${resource}#${id}`,
        });
        expect(logged.filter((row) => row.account === OTHER_ACCOUNT)).toHaveLength(attacks.length);

        const later = variant(name, { timestamp: sent + 120, data: { name: 'renamed by acme' } });
        expect((await run(await deliver([later]))).batchItemFailures).toEqual([]);
        expect(await item()).toMatchObject({
          account: ACCOUNT,
          data: expect.objectContaining({ name: 'renamed by acme' }),
        });
      },
    );

    it("refuse another account's transcription of the owner's call", async () => {
      expect((await run(await samples(['captured-outbound-call.ended']))).batchItemFailures).toEqual([]);
      const forged = withFields(sampleBody('captured-user.created'), {
        resource: 'conversation_intelligence',
        event: 'transcription.created',
        timestamp: FAR_FUTURE,
        data: { call_id: CALL_ID, transcription: { content: 'forged by globex' } },
        token: OTHER_TOKEN,
      });

      const { result, output } = await runCaptured(await deliver([forged]));

      expect(result.batchItemFailures).toEqual([]);
      expect(await call(CALL_ID)).not.toHaveProperty('transcription');
      expect(output).toMatch(/"message":"foreign write refused".*"event":"transcription.created"/);
      expect(output).not.toContain('forged by globex');
    });
  });

  it('does not let a timestamp beyond the margin outrank a later real event, and logs it as received', async () => {
    const user = (id: number) => getItem(stack.documents, stack.tables.users, { id });
    const forged = variant('captured-user.connected', {
      event: 'user.opened',
      timestamp: FAR_FUTURE,
      data: { available: true },
    });
    expect((await run(await deliver([forged]))).batchItemFailures).toEqual([]);
    // Stamped two seconds ahead of now, within the margin: later than the second the forgery was received in.
    const later = variant('captured-user.connected', {
      event: 'user.closed',
      timestamp: Math.floor(Date.now() / 1000) + 2,
      data: { available: false },
    });

    expect((await run(await deliver([later]))).batchItemFailures).toEqual([]);

    expect(await user(736640)).toMatchObject({ last_event: 'user.closed', available: false });
    const logged = await queryPartition(stack.documents, stack.tables.events, {
      name: 'pk',
      value: 'user#736640',
    });
    expect(logged.map((row) => row.timestamp)).toContain(FAR_FUTURE);
  });

  it('publishes once per invocation the events stored and write units of each account, and the writes refused', async () => {
    const records = await deliver([
      sampleBody('captured-user.connected'),
      sampleBody('captured-contact.created'),
      sampleBody('captured-contact.created'),
      withFields(sampleBody('documented-number.closed'), { token: OTHER_TOKEN }),
    ]);

    const { result, output } = await runCaptured(records);

    expect(result.batchItemFailures).toEqual([]);
    const emf = emfOf(output);
    expect(emf).toHaveLength(3);
    const namespace = {
      _aws: expect.objectContaining({
        CloudWatchMetrics: [expect.objectContaining({ Namespace: PERSIST_METRICS.options.namespace })],
      }),
    };
    const { names, accountDimension } = PERSIST_METRICS;
    expect(emf).toContainEqual(
      expect.objectContaining({
        ...namespace,
        ...PERSIST_METRICS.dimensions,
        [names.foreignWritesRefused]: 0,
      }),
    );
    const ofAccount = (account: string) => emf.find((doc) => doc[accountDimension] === account);
    // The contact twice: a duplicate delivery is not stored again, so not counted.
    expect(ofAccount(ACCOUNT)).toMatchObject({ ...namespace, [names.eventsStored]: 2 });
    expect(ofAccount(OTHER_ACCOUNT)).toMatchObject({ ...namespace, [names.eventsStored]: 1 });
    for (const account of [ACCOUNT, OTHER_ACCOUNT]) {
      const doc = ofAccount(account);
      expect(doc?._aws).toMatchObject({
        CloudWatchMetrics: [{ Dimensions: [['service', accountDimension]] }],
      });
      // dynalite reports the capacity of each write it makes, as DynamoDB does.
      expect(doc?.[names.writeUnitsConsumed]).toBeGreaterThan(0);
    }
  });
});
