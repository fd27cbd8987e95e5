// MediaArchive: the bucket recordings and voicemails are kept in, with its access-log bucket, the media job queue and
// its dead-letter queue, and the alarms on dead and waiting media jobs.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MEDIA_BUCKET, MEDIA_QUEUE } from '../definitions/archive.js';
import type { QueueSettings } from '../definitions/pipeline.js';
import { EventQueue } from './event-queue.js';

export interface MediaArchiveProps {
  /** Where the dead media job alarms are sent: the stack's alarm topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Days after which a recording moves to S3 Glacier Instant Retrieval.
   * @default never: recordings stay in S3 Standard
   */
  readonly coldAfterDays?: number;
  /**
   * Days after which a recording is deleted; greater than `coldAfterDays` when both are set.
   * @default never: recordings are kept forever
   */
  readonly expireAfterDays?: number;
  /**
   * Visibility timeout, retention, message size and redrive settings of the media job queue.
   * @default MEDIA_QUEUE from lib/definitions/archive.ts
   */
  readonly queueSettings?: QueueSettings;
  /**
   * Age of the oldest queued media job that counts as a stuck archive: two failed receives at the default
   * visibility, while the links may still be fresh.
   * @default Duration.hours(1)
   */
  readonly maxBacklogAge?: Duration;
  /**
   * Whether the buckets and queues outlive the stack, as the tables do. Objects are never deleted with the stack
   * (no autoDeleteObjects): with DESTROY, a bucket that still holds recordings makes the stack deletion fail
   * rather than lose them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const S3_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

const wholeDays = (name: string, value: number | undefined): void => {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1))
    throw new Error(`${name} must be a whole number of days, at least 1 (got ${value})`);
};

/**
 * The media bucket is encrypted with S3-managed keys (SSE-S3), as the queues use SQS-managed ones: no KMS key to
 * pay for per request or to grant to every reader of a presigned link, and the data is still encrypted at rest
 * under AWS-owned keys. Access is logged to a bucket of its own, so who read or changed a recording can be shown.
 * The cold class is Glacier Instant Retrieval rather than Standard-IA: as cheap to read at millisecond latency and
 * cheaper to keep, for recordings that are rarely played once a call is old.
 */
export class MediaArchive extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MediaArchiveProps) {
    super(scope, id);
    // Lets S3 deliver access logs through a bucket policy naming its logging service, instead of the
    // LogDeliveryWrite ACL, which object ownership enforced (ACLs disabled) forbids. Set here, for this subtree
    // only, before any child reads it, rather than app-wide in cdk.json.
    this.node.setContext(S3_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const { coldAfterDays, expireAfterDays } = props;
    wholeDays('coldAfterDays', coldAfterDays);
    wholeDays('expireAfterDays', expireAfterDays);
    if (coldAfterDays !== undefined && expireAfterDays !== undefined && expireAfterDays <= coldAfterDays)
      throw new Error(
        `expireAfterDays (${expireAfterDays}) must be greater than coldAfterDays (${coldAfterDays})`,
      );

    // SSE-S3, because S3 delivers server access logs only to a bucket encrypted that way.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(MEDIA_BUCKET.accessLogExpirationDays),
        },
      ],
      removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket of the media bucket: logging its own access would need a third bucket, ' +
        'and so on; S3 writes to it with the logging service principal only, and nothing else is granted.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'media/',
      lifecycleRules: [
        {
          id: 'Recordings',
          abortIncompleteMultipartUploadAfter: Duration.days(MEDIA_BUCKET.abortIncompleteMultipartUploadDays),
          noncurrentVersionExpiration: Duration.days(MEDIA_BUCKET.noncurrentVersionExpirationDays),
          ...(coldAfterDays === undefined
            ? {}
            : {
                transitions: [
                  {
                    storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transitionAfter: Duration.days(coldAfterDays),
                  },
                ],
              }),
          ...(expireAfterDays === undefined ? {} : { expiration: Duration.days(expireAfterDays) }),
        },
        // Expiring a versioned object leaves a delete marker; once its noncurrent versions are gone, it marks nothing.
        { id: 'ExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
      ],
      autoDeleteObjects: false,
      removalPolicy,
    });

    const queues = new EventQueue(this, 'Queue', {
      settings: props.queueSettings ?? MEDIA_QUEUE,
      removalPolicy,
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;

    this.addAlarm('DeadLetters', props.alarmTopic, {
      alarmDescription:
        'Media jobs the archive could not complete after every retry are in the media dead-letter queue: the ' +
        'recordings are not archived yet. Inspect the archive log, fix, redrive.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    });
    this.addAlarm('Backlog', props.alarmTopic, {
      alarmDescription:
        'The oldest media job has waited too long: the archive is failing (the media host or S3 down, see its log) ' +
        'or throttled, or a large backfill is queued. Jobs wait in the queue through hours of outage.',
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: (props.maxBacklogAge ?? Duration.hours(1)).toSeconds(),
    });
    // Depth alone stays in ALARM while old dead letters wait and hides the next one: this fires on each arrival.
    this.addAlarm('DeadLetterArrivals', props.alarmTopic, {
      alarmDescription:
        'A new media job reached the media dead-letter queue: a recording or voicemail is not archived. Inspect, ' +
        'fix, redrive.',
      metric: new cloudwatch.MathExpression({
        label: 'media dead letters arrived',
        expression: 'MAX([DIFF(visible), sent])',
        usingMetrics: {
          visible: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          sent: this.deadLetterQueue.metricNumberOfMessagesSent({
            period: Duration.minutes(1),
            statistic: 'Sum',
          }),
        },
        period: Duration.minutes(1),
      }),
    });
  }

  private addAlarm(
    id: string,
    topic: sns.ITopic,
    props: { alarmDescription: string; metric: cloudwatch.IMetric; threshold?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means no dead letters, no queued jobs.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}
