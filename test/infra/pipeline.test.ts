// The queue between ingest and persist, the event source that drains it, and the functions' settings.
import { describe, expect, it } from 'vitest';
import { EVENTS_QUEUE, OUTAGE_TOLERANCE_SECONDS, PERSIST } from '../../lib/definitions/pipeline.js';
import { arnOf, logicalId, synthesize } from './support.js';

const { stack, template } = synthesize();
const resources = template.toJSON().Resources;
const propertiesOf = (id: string) => {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id}`);
  return resource.Properties;
};
const queue = propertiesOf(logicalId(stack.events.queue));
const deadLetterQueue = propertiesOf(logicalId(stack.events.deadLetterQueue));
const ingest = propertiesOf(logicalId(stack.ingress.ingestFunction));
const persist = propertiesOf(logicalId(stack.persistence.persistFunction));
const { media, archive: archiver } = stack;
if (media === undefined || archiver === undefined) throw new Error('the default stack archives media');
const archive = propertiesOf(logicalId(archiver.archiveFunction));

describe('EventQueue', () => {
  it('moves a message to the dead-letter queue after maxReceiveCount receives', () => {
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(stack.events.deadLetterQueue),
      maxReceiveCount: EVENTS_QUEUE.maxReceiveCount,
    });
  });

  it.each([
    ['events queue', queue],
    ['dead-letter queue', deadLetterQueue],
  ])('encrypts the %s with SQS-managed keys and accepts 1 MiB messages', (_, properties) => {
    expect(properties.SqsManagedSseEnabled).toBe(true);
    expect(properties.KmsMasterKeyId).toBeUndefined();
    expect(properties.MaximumMessageSize).toBe(1_048_576);
  });

  it('hides a received message for at least six times the persist timeout', () => {
    expect(queue.VisibilityTimeout).toBe(EVENTS_QUEUE.visibilityTimeoutSeconds);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * persist.Timeout);
  });

  it('moves an event to the dead-letter queue after 40 receives, 3 minutes apart', () => {
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(40);
    expect(queue.VisibilityTimeout).toBe(180);
  });

  it('keeps events waiting in the queue through two hours of DynamoDB throttling or outage', () => {
    const waits = queue.RedrivePolicy.maxReceiveCount * queue.VisibilityTimeout;
    expect(OUTAGE_TOLERANCE_SECONDS).toBe(2 * 60 * 60);
    expect(waits).toBeGreaterThanOrEqual(OUTAGE_TOLERANCE_SECONDS);
  });

  it('keeps events four days, longer than their retries last and shorter than the dead letters are kept', () => {
    expect(queue.MessageRetentionPeriod).toBeGreaterThanOrEqual(4 * 24 * 60 * 60);
    expect(queue.MessageRetentionPeriod).toBeGreaterThan(
      queue.RedrivePolicy.maxReceiveCount * queue.VisibilityTimeout,
    );
    // A dead letter keeps the time it was first enqueued, so its queue must keep it longer than this one did.
    expect(deadLetterQueue.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
  });

  it('keeps messages for the configured retention, and dead letters for 14 days', () => {
    expect(queue.MessageRetentionPeriod).toBe(EVENTS_QUEUE.retentionSeconds);
    expect(deadLetterQueue.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
  });

  it.each([
    ['events queue', () => stack.events.queue],
    ['dead-letter queue', () => stack.events.deadLetterQueue],
  ])('denies every request to the %s that does not use TLS', (_, target) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(target()) }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: arnOf(target()),
          },
        ],
      },
    });
  });

  it.each([
    ['events queue', () => stack.events.queue],
    ['dead-letter queue', () => stack.events.deadLetterQueue],
  ])('keeps the %s when the stack is deleted, as the tables are kept', (_, target) => {
    const resource = resources[logicalId(target())];
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
  });

  it('gets no hard-coded queue names', () => {
    expect(queue.QueueName).toBeUndefined();
    expect(deadLetterQueue.QueueName).toBeUndefined();
  });
});

describe('the persist event source', () => {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) =>
      JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(arnOf(stack.events.queue)),
  );

  it('is the only event source mapping of the events queue, to persist', () => {
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties.EventSourceArn).toEqual(arnOf(stack.events.queue));
    expect(mappings[0]?.Properties.FunctionName).toEqual({
      Ref: logicalId(stack.persistence.persistFunction),
    });
  });

  it('reports failed records one by one, so only they are retried', () => {
    expect(mappings[0]?.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('batches, waits and scales as PERSIST says', () => {
    expect(mappings[0]?.Properties).toMatchObject({
      BatchSize: PERSIST.batchSize,
      MaximumBatchingWindowInSeconds: PERSIST.maxBatchingWindowSeconds,
      ScalingConfig: { MaximumConcurrency: PERSIST.maxConcurrency },
    });
  });
});

describe.each([
  ['ingest', ingest],
  ['persist', persist],
  ['archive', archive],
])('the %s function', (_, properties) => {
  it('runs Node.js 22 or newer on arm64', () => {
    const version = /^nodejs(\d+)\.x$/.exec(properties.Runtime)?.[1];
    expect(Number(version)).toBeGreaterThanOrEqual(22);
    expect(properties.Architectures).toEqual(['arm64']);
  });

  it('loads an ES module bundle and logs as JSON to its own log group', () => {
    expect(properties.Handler).toBe('index.handler');
    expect(properties.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      LogGroup: expect.objectContaining({ Ref: expect.any(String) }),
    });
  });
});

describe('the ingest function', () => {
  it('answers well inside the 5 s Aircall waits', () => {
    expect(ingest.Timeout).toBeLessThanOrEqual(4);
    expect(ingest.MemorySize).toBe(512);
  });

  it('learns the queue, the token registry, the cache lifetime and the payload cap from its environment', () => {
    expect(ingest.Environment.Variables).toEqual({
      EVENTS_QUEUE_URL: { Ref: logicalId(stack.events.queue) },
      WEBHOOKS_TABLE: { Ref: logicalId(stack.tables.tables.webhooks) },
      TOKEN_CACHE_SECONDS: '60',
      MAX_PAYLOAD_BYTES: '65536',
    });
  });
});

describe('the persist function', () => {
  it('has the memory and timeout of PERSIST', () => {
    expect(persist.Timeout).toBe(PERSIST.timeoutSeconds);
    expect(persist.MemorySize).toBe(PERSIST.memorySize);
  });

  it('reserves as much concurrency as its event source runs, so no account-wide throttle takes it', () => {
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(arnOf(stack.events.queue)),
    );
    expect(persist.ReservedConcurrentExecutions).toBe(PERSIST.maxConcurrency);
    expect(persist.ReservedConcurrentExecutions).toBe(mapping?.Properties.ScalingConfig.MaximumConcurrency);
  });

  it('reserves nothing for ingest, which scales with the webhooks', () => {
    expect(ingest.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('learns the five data tables, the accounts table, the event retention, the timestamp margin, the dead-letter queue and the media queue from its environment', () => {
    const { tables } = stack.tables;
    expect(persist.Environment.Variables).toEqual({
      CALLS_TABLE: { Ref: logicalId(tables.calls) },
      EVENTS_TABLE: { Ref: logicalId(tables.events) },
      USERS_TABLE: { Ref: logicalId(tables.users) },
      NUMBERS_TABLE: { Ref: logicalId(tables.numbers) },
      CONTACTS_TABLE: { Ref: logicalId(tables.contacts) },
      ACCOUNTS_TABLE: { Ref: logicalId(tables.accounts) },
      EVENT_RETENTION_DAYS: '365',
      TIMESTAMP_MARGIN_SECONDS: '300',
      DEAD_LETTER_QUEUE_URL: { Ref: logicalId(stack.events.deadLetterQueue) },
      MEDIA_QUEUE_URL: { Ref: logicalId(media.queue) },
    });
  });
});

describe('the log groups', () => {
  it('keep 30 days of logs by default and outlive the stack', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // The HTTP API's access log and one per function: ingest, persist, archive.
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      expect(group.Properties.RetentionInDays).toBe(30);
      expect(group.DeletionPolicy).toBe('Retain');
    }
  });
});
