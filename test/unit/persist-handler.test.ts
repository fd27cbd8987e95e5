// The persist handler over in-memory fakes: which records it reports, which it dead-letters, and per invocation.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createPersistHandler, type PersistHandlerDeps } from '../../lambdas/persist/handler.js';
import { RejectedWriteError, type StateStore, type StateWrite } from '../../lambdas/persist/ports.js';
import { PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import { lambdaContext, sqsEvent } from '../../local/lambda-events.js';
import { captureOutput } from '../support/capture.js';
import { sampleBody } from '../support/fixtures.js';
import {
  MemoryDeadLetterQueue,
  MemoryEventLog,
  MemoryReceiptLog,
  MemoryStateStore,
} from '../support/memory.js';

const NOW = 1_700_000_000_000;

const record = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `receipt-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(NOW),
    SenderId: 'ingest',
    ApproximateFirstReceiveTimestamp: String(NOW),
  },
  messageAttributes: {
    account: { dataType: 'String', stringValue: 'acme', stringListValues: [], binaryListValues: [] },
    received_at: { dataType: 'Number', stringValue: String(NOW), stringListValues: [], binaryListValues: [] },
  },
  md5OfBody: 'md5',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:events',
  awsRegion: 'us-east-1',
});

const USER = sampleBody('captured-user.connected');
const CONTACT = sampleBody('captured-contact.created');

/** Accounts made known, in order; `failWith` set, each attempt fails with it. */
class RecordingAccounts {
  readonly ensured: string[][] = [];
  failWith: Error | undefined;

  async ensure(accounts: Iterable<string>): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.ensured.push([...accounts]);
  }
}

const setup = (state: StateStore = new MemoryStateStore()) => {
  const deadLetters = new MemoryDeadLetterQueue();
  const events = new MemoryEventLog();
  const receipts = new MemoryReceiptLog();
  const accounts = new RecordingAccounts();
  const deps: PersistHandlerDeps = {
    events,
    receipts,
    accounts,
    state,
    deadLetters,
    retentionDays: 0,
    timestampMarginSeconds: 300,
    logger: new Logger({ serviceName: 'persist', logLevel: 'DEBUG' }),
    metrics: new Metrics(PERSIST_METRICS.options),
    now: () => NOW + 5,
  };
  return { deadLetters, events, receipts, accounts, handler: createPersistHandler(deps) };
};

const invoke = (handler: ReturnType<typeof setup>['handler'], records: readonly SQSRecord[]) =>
  captureOutput(() => handler(sqsEvent(records), lambdaContext('persist')));

/** A state store whose writes to one item fail as DynamoDB throttling would, and to another wait for a gate. */
class ScriptedStateStore extends MemoryStateStore {
  private open: () => void = () => undefined;
  readonly gate = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  failed: (() => void) | undefined;

  release(): void {
    this.open();
  }

  override async apply(write: StateWrite) {
    if (write.table === 'users') {
      this.failed?.();
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ThrottlingException',
      });
    }
    if (write.table === 'contacts') await this.gate;
    return super.apply(write);
  }
}

describe('createPersistHandler', () => {
  it('reports a retriable failure as failed and sends nothing to the dead-letter queue', async () => {
    const { deadLetters, handler } = setup(new ScriptedStateStore());

    const { result, output } = await invoke(handler, [record('user', USER)]);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'user' }]);
    expect(deadLetters.letters).toEqual([]);
    expect(output).toContain('"message":"record not persisted"');
  });

  it('sends a record the store refuses for good to the dead-letter queue, as received, and reports it handled', async () => {
    const memory = new MemoryStateStore();
    const refusing: StateStore = {
      apply: async (write) => {
        if (write.table !== 'users') return memory.apply(write);
        throw new RejectedWriteError(
          'DynamoDB refused the users write: Item size to update has exceeded the maximum allowed size',
        );
      },
    };
    const { deadLetters, handler } = setup(refusing);
    const refused = record('user', USER);

    const { result, output } = await invoke(handler, [refused, record('contact', CONTACT)]);

    expect(result.batchItemFailures).toEqual([]);
    expect(deadLetters.letters).toEqual([
      {
        body: USER,
        attributes: {
          account: { dataType: 'String', stringValue: 'acme' },
          received_at: { dataType: 'Number', stringValue: String(NOW) },
        },
        reason: 'DynamoDB refused the users write: Item size to update has exceeded the maximum allowed size',
        failedAt: NOW + 5,
      },
    ]);
    expect(output).toMatch(
      /"message":"record sent to the dead-letter queue".*"account":"acme","resource":"user"/,
    );
    expect(output).not.toContain('sample-webhook-token-not-a-secret');
    expect(memory.tables.contacts.get(76041687)).toMatchObject({ account: 'acme' });
  });

  it('reports a permanent failure as failed when the dead-letter queue cannot take it', async () => {
    const { deadLetters, handler } = setup();
    deadLetters.failure = new Error('connect ECONNREFUSED');

    const { result, output } = await invoke(handler, [record('malformed', '{"hello":"world"}')]);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'malformed' }]);
    expect(output).toContain('"message":"record not persisted, nor sent to the dead-letter queue"');
  });

  it('keeps the failures of two batches handled at once each in its own response', async () => {
    const state = new ScriptedStateStore();
    const { handler } = setup(state);
    const userFailed = new Promise<void>((resolve) => {
      state.failed = resolve;
    });

    // The first batch fails its user record, then waits on its contact while the second batch runs whole.
    const first = invoke(handler, [record('user', USER), record('contact', CONTACT)]);
    await userFailed;
    const second = await invoke(handler, [record('number', sampleBody('documented-number.closed'))]);
    state.release();

    expect(second.result.batchItemFailures).toEqual([]);
    expect((await first).result.batchItemFailures).toEqual([{ itemIdentifier: 'user' }]);
  });

  it('lists every stored event in a receipt of its account and minute before writing its row', async () => {
    const { events, receipts, handler } = setup();

    const { result } = await invoke(handler, [record('user', USER), record('contact', CONTACT)]);

    expect(result.batchItemFailures).toEqual([]);
    expect(receipts.listed().sort()).toEqual([...events.rows.keys()].sort());
    const [receipt] = receipts.receipts.values();
    expect(receipt).toMatchObject({
      pk: `#received#acme#${new Date(NOW).toISOString().slice(0, 10)}`,
      account: 'acme',
    });
    expect(receipt?.sk.startsWith(String(Math.floor(NOW / 60_000) * 60_000).padStart(13, '0'))).toBe(true);
  });

  it('lists no record that can never be stored, and still sends it to the dead-letter queue', async () => {
    const { deadLetters, receipts, handler } = setup();

    const { result } = await invoke(handler, [
      record('malformed', '{"hello":"world"}'),
      record('user', USER),
    ]);

    expect(result.batchItemFailures).toEqual([]);
    expect(receipts.listed()).toHaveLength(1);
    expect(deadLetters.letters).toHaveLength(1);
  });

  it('fails the whole batch, writing no row, when its receipts cannot be stored', async () => {
    const { events, receipts, handler } = setup();
    receipts.failWith = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ThrottlingException',
    });

    const { result, output } = await invoke(handler, [record('user', USER), record('contact', CONTACT)]);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'user' }, { itemIdentifier: 'contact' }]);
    expect(events.rows.size).toBe(0);
    expect(output).toContain('"message":"receipts not stored; the batch is retried"');
  });

  it('rewrites the same receipt when a batch is retried whole', async () => {
    const { receipts, handler } = setup();
    const batch = [record('user', USER), record('contact', CONTACT)];

    await invoke(handler, batch);
    await invoke(handler, batch);

    expect(receipts.receipts.size).toBe(1);
    expect(receipts.listed()).toHaveLength(2);
  });

  it('makes the batch accounts known before writing any receipt or row, and fails the batch when it cannot', async () => {
    const { events, receipts, accounts, handler } = setup();
    accounts.failWith = new Error('connect ETIMEDOUT');

    const failed = await invoke(handler, [record('user', USER)]);
    expect(failed.result.batchItemFailures).toEqual([{ itemIdentifier: 'user' }]);
    expect(receipts.receipts.size).toBe(0);
    expect(events.rows.size).toBe(0);

    accounts.failWith = undefined;
    const stored = await invoke(handler, [record('user', USER)]);
    expect(stored.result.batchItemFailures).toEqual([]);
    expect(accounts.ensured).toEqual([['acme']]);
  });

  it('sends a record whose receive time no day can be found for to the dead-letter queue alone', async () => {
    const { deadLetters, events, handler } = setup();
    const far = record('far', USER);
    const farAttributes = far.messageAttributes;
    const farFuture = {
      ...far,
      messageAttributes: {
        ...farAttributes,
        received_at: { ...farAttributes.received_at, dataType: 'Number', stringValue: '9000000000000000' },
      },
    };

    const { result } = await invoke(handler, [farFuture, record('contact', CONTACT)]);

    expect(result.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((letter) => letter.reason)).toEqual(['record has no usable receive time']);
    expect(events.rows.size).toBe(1);
  });
});
