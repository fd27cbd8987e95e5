// The media archive in the stack: the archive function, its event source, its /tmp and environment, the outputs,
// what the configuration changes, and a stack without it.
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Archive, archiveEphemeralMiB } from '../../lib/constructs/archive.js';
import { ARCHIVE } from '../../lib/definitions/archive.js';
import { MEDIA_OUTPUTS } from '../../lib/definitions/media.js';
import { arnOf, logicalId, normalize, policyStatements, synthesize } from './support.js';

const GIB = 1024 * 1024 * 1024;

const mediaOf = ({ stack }: ReturnType<typeof synthesize>) => {
  if (stack.media === undefined || stack.archive === undefined)
    throw new Error('the stack archives media by default');
  return { media: stack.media, archiveFunction: stack.archive.archiveFunction };
};
const resourceOf = (built: ReturnType<typeof synthesize>, construct: Parameters<typeof logicalId>[0]) =>
  built.template.toJSON().Resources[logicalId(construct)];
const mappingsFrom = (built: ReturnType<typeof synthesize>, queue: sqs.IQueue) =>
  Object.values(built.template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) => JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(arnOf(queue)),
  );

const standard = synthesize();
const configured = synthesize({
  archiveConcurrency: 5,
  maxMediaBytes: 2 * GIB,
  mediaAllowedOrigins: ['https://media.example.com', 'https://*.example.org'],
  aircallSecretName: 'aircall/credentials',
  mediaColdAfterDays: 30,
  mediaExpireAfterDays: 400,
  removalPolicy: 'destroy',
});
const withoutMedia = synthesize({ archiveMedia: false });

describe('the archive event source', () => {
  const { media, archiveFunction } = mediaOf(standard);
  const mappings = mappingsFrom(standard, media.queue);

  it('is the only event source mapping of the media queue, to the archive function', () => {
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties.FunctionName).toEqual({ Ref: logicalId(archiveFunction) });
  });

  it('reports failed jobs one by one, takes ARCHIVE.batchSize jobs a batch and runs ARCHIVE.maxConcurrency at once', () => {
    expect(mappings[0]?.Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: ARCHIVE.batchSize,
      ScalingConfig: { MaximumConcurrency: ARCHIVE.maxConcurrency },
    });
  });

  it('runs as many at once as archiveConcurrency says', () => {
    const [mapping] = mappingsFrom(configured, mediaOf(configured).media.queue);
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
  });

  it('reserves as much concurrency for the archive as its event source runs, configured or not', () => {
    const reserved = (built: ReturnType<typeof synthesize>) =>
      resourceOf(built, mediaOf(built).archiveFunction).Properties.ReservedConcurrentExecutions;
    expect(reserved(standard)).toBe(ARCHIVE.maxConcurrency);
    expect(reserved(standard)).toBe(mappings[0]?.Properties.ScalingConfig.MaximumConcurrency);
    expect(reserved(configured)).toBe(5);
  });
});

describe('the archive function', () => {
  const { media, archiveFunction } = mediaOf(standard);
  const properties = resourceOf(standard, archiveFunction).Properties;

  it('has the memory and timeout of ARCHIVE', () => {
    expect(properties.MemorySize).toBe(ARCHIVE.memorySize);
    expect(properties.Timeout).toBe(ARCHIVE.timeoutSeconds);
  });

  it('learns the bucket, the calls table, the media dead-letter queue and the size cap, and no origin or secret, by default', () => {
    expect(properties.Environment.Variables).toEqual({
      MEDIA_BUCKET: { Ref: logicalId(media.bucket) },
      CALLS_TABLE: { Ref: logicalId(standard.stack.tables.tables.calls) },
      MEDIA_DEAD_LETTER_QUEUE_URL: { Ref: logicalId(media.deadLetterQueue) },
      MEDIA_MAX_BYTES: '536870912',
    });
  });

  it('learns the configured origins, comma-separated, the secret name and the size cap', () => {
    const variables = resourceOf(configured, mediaOf(configured).archiveFunction).Properties.Environment
      .Variables;
    expect(variables).toMatchObject({
      MEDIA_ALLOWED_ORIGINS: 'https://media.example.com,https://*.example.org',
      AIRCALL_SECRET_ID: 'aircall/credentials',
      MEDIA_MAX_BYTES: String(2 * GIB),
    });
  });

  it('has /tmp for a whole batch of the largest files, and a margin', () => {
    // Two 512 MiB files and 256 MiB; two 2 GiB files and 256 MiB.
    expect(properties.EphemeralStorage).toEqual({ Size: 1280 });
    expect(resourceOf(configured, mediaOf(configured).archiveFunction).Properties.EphemeralStorage).toEqual({
      Size: 4352,
    });
  });
});

describe('archiveEphemeralMiB', () => {
  it("never asks for less than Lambda's 512 MiB", () => {
    expect(archiveEphemeralMiB(2, 1024 * 1024)).toBe(512);
  });

  it('rounds a batch up to whole MiB', () => {
    expect(archiveEphemeralMiB(3, 100 * 1024 * 1024 + 1)).toBe(3 * 100 + 1 + 256);
  });

  it("refuses a batch that /tmp cannot hold, beyond Lambda's 10240 MiB", () => {
    expect(() => archiveEphemeralMiB(5, 2 * GIB)).toThrow(/10496 MiB of \/tmp, beyond Lambda's 10240 MiB/);
  });
});

describe('Archive', () => {
  it('refuses a secret key without a secret, which it would encrypt', () => {
    const stack = new Stack(new App(), 'Probe');
    expect(
      () =>
        new Archive(stack, 'Archive', {
          queue: sqs.Queue.fromQueueArn(stack, 'Queue', 'arn:aws:sqs:eu-west-1:123456789012:media'),
          deadLetterQueue: sqs.Queue.fromQueueArn(
            stack,
            'Dlq',
            'arn:aws:sqs:eu-west-1:123456789012:media-dlq',
          ),
          bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'media'),
          callsTable: dynamodb.Table.fromTableName(stack, 'Calls', 'calls'),
          secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234',
        }),
    ).toThrow('secretKmsKeyArn is set but secretName is not');
  });
});

describe('the media archive in the stack', () => {
  const { media } = mediaOf(standard);
  const outputs = standard.template.toJSON().Outputs;

  it('names the media bucket, the media queue and its dead-letter queue in the outputs', () => {
    expect(outputs[MEDIA_OUTPUTS.bucket].Value).toEqual({ Ref: logicalId(media.bucket) });
    expect(outputs[MEDIA_OUTPUTS.queue].Value).toEqual({ Ref: logicalId(media.queue) });
    expect(outputs[MEDIA_OUTPUTS.deadLetterQueue].Value).toEqual({ Ref: logicalId(media.deadLetterQueue) });
  });

  it("sends the media dead-letter and backlog alarms to the stack's alarm topic", () => {
    expect(media.alarms).toHaveLength(3);
    for (const alarm of media.alarms)
      expect(resourceOf(standard, alarm).Properties.AlarmActions).toEqual([
        { Ref: logicalId(standard.stack.alarms.topic) },
      ]);
  });

  it('keeps the buckets and the media queues when the stack is deleted, as the tables are kept', () => {
    for (const construct of [media.bucket, media.accessLogsBucket, media.queue, media.deadLetterQueue])
      expect(resourceOf(standard, construct).DeletionPolicy).toBe('Retain');
  });

  it("deletes them with the stack when removalPolicy is 'destroy'", () => {
    const { media: destroyed } = mediaOf(configured);
    for (const construct of [
      destroyed.bucket,
      destroyed.accessLogsBucket,
      destroyed.queue,
      destroyed.deadLetterQueue,
    ])
      expect(resourceOf(configured, construct).DeletionPolicy).toBe('Delete');
  });

  it('moves recordings to the cold class and deletes them after the configured days', () => {
    const rules = resourceOf(configured, mediaOf(configured).media.bucket).Properties.LifecycleConfiguration
      .Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        Id: 'Recordings',
        ExpirationInDays: 400,
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
      }),
    );
  });
});

describe('a stack without archiveMedia', () => {
  const { template, stack } = withoutMedia;

  it('has no media archive and no archive function', () => {
    expect(stack.media).toBeUndefined();
    expect(stack.archive).toBeUndefined();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  it('has no media output', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of Object.values(MEDIA_OUTPUTS)) expect(outputs).not.toContain(name);
  });

  it('gives persist no media queue, in its environment or its role', () => {
    const { persistFunction } = stack.persistence;
    const persist = template.toJSON().Resources[logicalId(persistFunction)].Properties;
    expect(persist.Environment.Variables).not.toHaveProperty('MEDIA_QUEUE_URL');
    if (persistFunction.role === undefined) throw new Error('persist has no role');
    const sends = policyStatements(template, logicalId(persistFunction.role))
      .map(normalize)
      .filter((s) => s.actions.includes('sqs:SendMessage'));
    expect(sends.map((s) => s.resources)).toEqual([[JSON.stringify(arnOf(stack.events.deadLetterQueue))]]);
  });
});
