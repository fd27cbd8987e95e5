// MediaArchive: the media bucket's protection and lifecycle, the media job queues, their alarms, under the nag gate.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MediaArchive, type MediaArchiveProps } from '../../lib/constructs/media.js';
import { ARCHIVE, MEDIA_QUEUE } from '../../lib/definitions/archive.js';
import { OUTAGE_TOLERANCE_SECONDS } from '../../lib/definitions/pipeline.js';
import { arnOf, logicalId, nagApp } from './support.js';

/** A stack holding the construct and an alarm topic, synthesized with the nag packs on (a finding throws). */
const build = (props: Omit<MediaArchiveProps, 'alarmTopic'> = {}) => {
  const { app, stack } = nagApp();
  const topic = new sns.Topic(stack, 'AlarmTopic', { enforceSSL: true });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'A stand-in for the stack alarm topic, which carries the same acknowledgement in lib/constructs/alarms.ts.',
  });
  const media = new MediaArchive(stack, 'Media', { alarmTopic: topic, ...props });
  app.synth();
  return { app, stack, topic, media, template: Template.fromStack(stack) };
};

const findingsOf = (scope: Parameters<AwsSolutionsChecks['validateScope']>[0]) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => v.ruleName),
  );

const kept = build();
const tiered = build({ coldAfterDays: 30, expireAfterDays: 2555 });
const bucketOf = (b: ReturnType<typeof build>) => b.template.toJSON().Resources[logicalId(b.media.bucket)];
const rulesOf = (b: ReturnType<typeof build>) => bucketOf(b).Properties.LifecycleConfiguration.Rules;

describe('the media bucket', () => {
  it('is encrypted with S3-managed keys and blocks every form of public access', () => {
    const props = bucketOf(kept).Properties;
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  it('keeps versions', () => {
    expect(bucketOf(kept).Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('denies every request that does not come over TLS', () => {
    kept.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(kept.media.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [arnOf(kept.media.bucket), { 'Fn::Join': ['', [arnOf(kept.media.bucket), '/*']] }],
          },
        ]),
      },
    });
  });

  it('logs its access to a private, TLS-only bucket that only S3 logging for this bucket may write to', () => {
    const logs = kept.media.accessLogsBucket;
    expect(bucketOf(kept).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(logs) },
      LogFilePrefix: 'media/',
    });
    const logsBucket = kept.template.toJSON().Resources[logicalId(logs)].Properties;
    expect(logsBucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(logsBucket.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(logsBucket.LifecycleConfiguration.Rules).toEqual([
      { Id: 'ExpireAccessLogs', ExpirationInDays: 365, Status: 'Enabled' },
    ]);
    const policy = Object.values(
      kept.template.findResources('AWS::S3::BucketPolicy', {
        Properties: { Bucket: { Ref: logicalId(logs) } },
      }),
    );
    expect(policy).toHaveLength(1);
    const statements = policy[0]?.Properties.PolicyDocument.Statement;
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(statements[1]).toEqual({
      Action: 's3:PutObject',
      Condition: {
        ArnLike: { 'aws:SourceArn': arnOf(kept.media.bucket) },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Resource: { 'Fn::Join': ['', [arnOf(logs), '/media/*']] },
    });
  });

  it('keeps recordings forever by default, expiring only old versions, stale uploads and empty delete markers', () => {
    expect(rulesOf(kept)).toEqual([
      {
        Id: 'Recordings',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
      { Id: 'ExpiredDeleteMarkers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
    ]);
  });

  it('moves recordings to Glacier Instant Retrieval and deletes them after the days given', () => {
    expect(rulesOf(tiered)).toEqual([
      {
        Id: 'Recordings',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
        ExpirationInDays: 2555,
      },
      { Id: 'ExpiredDeleteMarkers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
    ]);
  });

  it('takes a cold tier alone, or an expiry alone', () => {
    const cold = build({ coldAfterDays: 90 });
    expect(rulesOf(cold)[0]).toMatchObject({
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
    });
    expect(rulesOf(cold)[0]).not.toHaveProperty('ExpirationInDays');
    const expiring = build({ expireAfterDays: 365 });
    expect(rulesOf(expiring)[0]).toMatchObject({ ExpirationInDays: 365 });
    expect(rulesOf(expiring)[0]).not.toHaveProperty('Transitions');
  });

  it('refuses an expiry not after the cold tier, and days that are not whole and positive', () => {
    const { stack } = nagApp();
    const topic = new sns.Topic(stack, 'AlarmTopic');
    expect(
      () => new MediaArchive(stack, 'Same', { alarmTopic: topic, coldAfterDays: 30, expireAfterDays: 30 }),
    ).toThrow('expireAfterDays (30) must be greater than coldAfterDays (30)');
    expect(() => new MediaArchive(stack, 'Zero', { alarmTopic: topic, coldAfterDays: 0 })).toThrow(
      'coldAfterDays must be a whole number of days, at least 1 (got 0)',
    );
    expect(() => new MediaArchive(stack, 'Half', { alarmTopic: topic, expireAfterDays: 1.5 })).toThrow(
      'expireAfterDays must be a whole number of days, at least 1 (got 1.5)',
    );
  });
});

describe('the removal policy', () => {
  it('retains both buckets and both queues by default, and never empties a bucket', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::SQS::Queue']) {
      const resources = Object.values(kept.template.findResources(type));
      expect(resources).toHaveLength(2);
      for (const resource of resources) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
    kept.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('deletes them with the stack when told, still without emptying a bucket', () => {
    const destroyed = build({ removalPolicy: RemovalPolicy.DESTROY });
    for (const type of ['AWS::S3::Bucket', 'AWS::SQS::Queue']) {
      const resources = Object.values(destroyed.template.findResources(type));
      expect(resources).toHaveLength(2);
      for (const resource of resources) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      }
    }
    destroyed.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    destroyed.template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('the media queue', () => {
  it('hides a job for six archive timeouts and dead-letters it after eight receives', () => {
    expect(MEDIA_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * ARCHIVE.timeoutSeconds);
    kept.template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      MessageRetentionPeriod: 4 * 86_400,
      MaximumMessageSize: 262_144,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: arnOf(kept.media.deadLetterQueue), maxReceiveCount: 8 },
    });
  });

  it('keeps a job waiting through four hours of an S3 or media-host outage, twice the least tolerated', () => {
    const waits = MEDIA_QUEUE.maxReceiveCount * MEDIA_QUEUE.visibilityTimeoutSeconds;
    expect(waits).toBe(4 * 60 * 60);
    expect(waits).toBeGreaterThanOrEqual(OUTAGE_TOLERANCE_SECONDS);
    expect(MEDIA_QUEUE.retentionSeconds).toBeGreaterThan(waits);
  });

  it('keeps dead letters 14 days, encrypted, with no further redrive', () => {
    const dlq = kept.template.toJSON().Resources[logicalId(kept.media.deadLetterQueue)].Properties;
    expect(dlq).toEqual({
      MaximumMessageSize: 262_144,
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
    });
  });

  it('refuses plain HTTP on both queues', () => {
    for (const queue of [kept.media.queue, kept.media.deadLetterQueue]) {
      kept.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: [
            {
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: arnOf(queue),
            },
          ],
        },
      });
    }
  });

  it('keeps the archive to a small batch, a bounded concurrency and a timeout for a large file', () => {
    expect(ARCHIVE).toEqual({ timeoutSeconds: 300, memorySize: 512, batchSize: 2, maxConcurrency: 2 });
  });
});

describe('the media alarms', () => {
  const alarms = Object.values(kept.template.findResources('AWS::CloudWatch::Alarm'));
  const dlqName = { 'Fn::GetAtt': [logicalId(kept.media.deadLetterQueue), 'QueueName'] };

  it('are three, each on the given topic, quiet without data', () => {
    expect(alarms).toHaveLength(3);
    expect(kept.media.alarms).toHaveLength(3);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [{ Ref: logicalId(kept.topic) }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('fire once the oldest queued job is an hour old: two failed receives', () => {
    kept.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(kept.media.queue), 'QueueName'] } },
      ],
      Period: 300,
      Statistic: 'Maximum',
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalId(kept.topic) }],
    });
  });

  it('fire while the media dead-letter queue is not empty', () => {
    kept.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: dlqName }],
      Period: 300,
      Statistic: 'Maximum',
      Threshold: 1,
    });
  });

  it('fire again on each new arrival, moved there by the redrive or sent there', () => {
    kept.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'MAX([DIFF(visible), sent])', ReturnData: true }),
        Match.objectLike({
          Id: 'visible',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [{ Name: 'QueueName', Value: dlqName }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        }),
        Match.objectLike({
          Id: 'sent',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'NumberOfMessagesSent',
              Dimensions: [{ Name: 'QueueName', Value: dlqName }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        }),
      ],
      Threshold: 1,
    });
  });
});

describe('the nag packs on a stack holding the archive', () => {
  it('report no unacknowledged finding, with or without the lifecycle days', () => {
    expect(findingsOf(kept.app)).toEqual([]);
    expect(findingsOf(tiered.app)).toEqual([]);
  });

  it('acknowledge only the unlogged access-log bucket and the dead-letter queue, each with a reason', () => {
    const acknowledgements = kept.media.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
            path: construct.node.path,
            rule,
            reason,
          })),
        ),
    );
    expect(acknowledgements.map(({ path, rule }) => ({ path, rule }))).toEqual([
      { path: 'ProbeStack/Media/AccessLogsBucket', rule: expect.stringMatching(/AwsSolutions-S1$/) },
      {
        path: 'ProbeStack/Media/Queue/DeadLetterQueue',
        rule: expect.stringMatching(/Serverless-SQSRedrivePolicy$/),
      },
    ]);
    for (const { reason } of acknowledgements) expect(reason.length).toBeGreaterThan(40);
  });
});
