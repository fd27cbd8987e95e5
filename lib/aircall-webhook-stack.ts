// AircallWebhookStack: composes tables, queues, ingress, persistence, guardian, alarms and the media archive from one
// validated configuration.
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StackConfig } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { Archive } from './constructs/archive.js';
import { EventQueue } from './constructs/event-queue.js';
import { Guardian } from './constructs/guardian.js';
import { Ingress } from './constructs/ingress.js';
import { MediaArchive } from './constructs/media.js';
import { Persistence } from './constructs/persistence.js';
import { WebhookTables } from './constructs/tables.js';
import { MEDIA_OUTPUTS } from './definitions/media.js';
import { TABLE_NAMES, tableOutputName } from './definitions/tables.js';
import { WEBHOOK_URL_SEPARATOR, WEBHOOK_URLS_OUTPUT } from './definitions/webhook-urls.js';

export interface AircallWebhookStackProps extends StackProps {
  readonly config: StackConfig;
}

/** The validated number of days as the CloudWatch Logs enum (config accepts only values the enum holds). */
const toRetentionDays = (days: number): logs.RetentionDays => {
  const match = Object.values(logs.RetentionDays).find((value) => value === days);
  if (typeof match !== 'number') throw new Error(`${days} is not a CloudWatch Logs retention value`);
  return match;
};

export class AircallWebhookStack extends Stack {
  public readonly tables: WebhookTables;
  public readonly events: EventQueue;
  public readonly ingress: Ingress;
  public readonly persistence: Persistence;
  /** Present when `aircallSecretName` is configured: without credentials there is nothing to guard. */
  public readonly guardian?: Guardian;
  public readonly alarms: Alarms;
  /** Present when `archiveMedia` is true (the default): the media bucket and the media job queues. */
  public readonly media?: MediaArchive;
  /** Present with `media`: the function that archives each media job. */
  public readonly archive?: Archive;

  constructor(scope: Construct, id: string, props: AircallWebhookStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = toRetentionDays(config.logRetentionDays);

    this.tables = new WebhookTables(this, 'Tables', { removalPolicy });
    this.events = new EventQueue(this, 'Events', { removalPolicy });
    const { tables } = this.tables;

    this.ingress = new Ingress(this, 'Ingress', {
      queue: this.events.queue,
      webhooksTable: tables.webhooks,
      webhookPath: config.webhookPath,
      throttlingRateLimit: config.throttlingRateLimit,
      throttlingBurstLimit: config.throttlingBurstLimit,
      tokenCacheSeconds: config.tokenCacheSeconds,
      maxPayloadBytes: config.maxPayloadBytes,
      logRetention,
      removalPolicy,
    });

    // The API's own URL always, then the custom domains in front of it.
    const webhookUrls = [this.ingress.webhookUrl, ...(config.webhookUrls ?? [])];
    if (config.aircallSecretName !== undefined) {
      this.guardian = new Guardian(this, 'Guardian', {
        webhooksTable: tables.webhooks,
        gapRepair: {
          eventsQueue: this.events.queue,
          accountsTable: tables.accounts,
          stateTables: {
            calls: tables.calls,
            users: tables.users,
            numbers: tables.numbers,
            contacts: tables.contacts,
          },
        },
        secretName: config.aircallSecretName,
        ...(config.aircallSecretKmsKeyArn === undefined
          ? {}
          : { secretKmsKeyArn: config.aircallSecretKmsKeyArn }),
        webhookUrls,
        schedule: config.guardianSchedule,
        logRetention,
        removalPolicy,
      });
    }

    // Before the media archive, whose dead-letter alarms notify this topic too.
    this.alarms = new Alarms(this, 'Alarms', {
      queue: this.events.queue,
      deadLetterQueue: this.events.deadLetterQueue,
      httpApi: this.ingress.httpApi,
      accessLogGroup: this.ingress.accessLogGroup,
      ingestLogGroup: this.ingress.ingestFunction.logGroup,
      ...(this.guardian === undefined ? {} : { guardianFunction: this.guardian.guardianFunction }),
      ...(config.alarmEmail === undefined ? {} : { alarmEmail: config.alarmEmail }),
    });

    if (config.archiveMedia) {
      this.media = new MediaArchive(this, 'Media', {
        alarmTopic: this.alarms.topic,
        ...(config.mediaColdAfterDays === undefined ? {} : { coldAfterDays: config.mediaColdAfterDays }),
        ...(config.mediaExpireAfterDays === undefined
          ? {}
          : { expireAfterDays: config.mediaExpireAfterDays }),
        removalPolicy,
      });
      this.archive = new Archive(this, 'Archive', {
        queue: this.media.queue,
        deadLetterQueue: this.media.deadLetterQueue,
        bucket: this.media.bucket,
        callsTable: tables.calls,
        maxMediaBytes: config.maxMediaBytes,
        maxConcurrency: config.archiveConcurrency,
        ...(config.mediaAllowedOrigins === undefined ? {} : { allowedOrigins: config.mediaAllowedOrigins }),
        ...(config.aircallSecretName === undefined ? {} : { secretName: config.aircallSecretName }),
        ...(config.aircallSecretKmsKeyArn === undefined
          ? {}
          : { secretKmsKeyArn: config.aircallSecretKmsKeyArn }),
        logRetention,
        removalPolicy,
      });
    }

    this.persistence = new Persistence(this, 'Persistence', {
      queue: this.events.queue,
      deadLetterQueue: this.events.deadLetterQueue,
      tables: {
        calls: tables.calls,
        events: tables.events,
        users: tables.users,
        numbers: tables.numbers,
        contacts: tables.contacts,
      },
      ...(this.media === undefined ? {} : { mediaQueue: this.media.queue }),
      accountsTable: tables.accounts,
      eventRetentionDays: config.eventRetentionDays,
      timestampMarginSeconds: config.timestampMarginSeconds,
      logRetention,
      removalPolicy,
    });

    new CfnOutput(this, 'WebhookUrl', {
      value: this.ingress.webhookUrl,
      description: 'URL to register as the Aircall webhook',
    });
    new CfnOutput(this, WEBHOOK_URLS_OUTPUT, {
      value: webhookUrls.join(WEBHOOK_URL_SEPARATOR),
      description:
        'Every webhook URL of this stack, comma-separated: the guardian keeps the webhooks pointing at these',
    });
    for (const name of TABLE_NAMES) {
      new CfnOutput(this, tableOutputName(name), {
        value: tables[name].tableName,
        description: `DynamoDB table: ${name}`,
      });
    }
    new CfnOutput(this, 'EventsQueueUrl', {
      value: this.events.queue.queueUrl,
      description: 'SQS events queue',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'SNS topic every alarm notifies; subscribe to it, or set alarmEmail',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.events.deadLetterQueue.queueUrl,
      description: 'SQS dead-letter queue of the events queue',
    });
    if (this.media !== undefined) {
      new CfnOutput(this, MEDIA_OUTPUTS.bucket, {
        value: this.media.bucket.bucketName,
        description: 'S3 bucket the recordings and voicemails are archived in',
      });
      new CfnOutput(this, MEDIA_OUTPUTS.queue, {
        value: this.media.queue.queueUrl,
        description: 'SQS media job queue the archive consumes',
      });
      new CfnOutput(this, MEDIA_OUTPUTS.deadLetterQueue, {
        value: this.media.deadLetterQueue.queueUrl,
        description: 'SQS dead-letter queue of the media job queue',
      });
    }
  }
}
