// AircallWebhookStack: composes tables, queues, ingress, persistence, guardian, alarms, the media archive and the
// dashboard from one validated configuration.
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StackConfig } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { Archive } from './constructs/archive.js';
import { PipelineDashboard, type WatchedQueue } from './constructs/dashboard.js';
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
  public readonly dashboard: PipelineDashboard;

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
      kind: config.ingress,
      throttlingRateLimit: config.throttlingRateLimit,
      throttlingBurstLimit: config.throttlingBurstLimit,
      reservedConcurrency: config.ingestReservedConcurrency,
      tokenCacheSeconds: config.tokenCacheSeconds,
      maxPayloadBytes: config.maxPayloadBytes,
      logRetention,
      removalPolicy,
    });

    // The endpoint's own URL always (the API's or the function URL), then the custom domains in front of it.
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
      endpoint: this.ingress.endpoint,
      ingestLogGroup: this.ingress.ingestFunction.logGroup,
      ingestFunction: this.ingress.ingestFunction,
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
      this.alarms.watchConsumer('Archive', this.archive.archiveFunction, {
        errors:
          'The archive failed a whole batch of media jobs (a crash or its 5-minute timeout): they come back after 30 ' +
          'minutes, and reach the media dead-letter queue after 8 receives (4 hours). Its log says why.',
        throttles:
          'Lambda throttled the archive despite its reserved concurrency (lowered by hand, or archiveConcurrency ' +
          'changed outside the stack): media jobs spend receives without running. Restore its reserved concurrency.',
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
    this.alarms.watchConsumer('Persist', this.persistence.persistFunction, {
      errors:
        'Persist failed a whole batch (a crash, its 30 s timeout, DynamoDB unreachable): the events stay queued and ' +
        'come back after 3 minutes, reaching the dead-letter queue only after 40 receives (2 hours). Its log says why.',
      throttles:
        'Lambda throttled persist despite its reserved concurrency (lowered by hand outside the stack): events spend ' +
        'receives without being stored. Restore its reserved concurrency to the event source maximum.',
    });

    // Last, so that it shows every alarm the stack has.
    const watchedQueues: WatchedQueue[] = [
      { name: 'Events queue', queue: this.events.queue, deadLetterQueue: this.events.deadLetterQueue },
      ...(this.media === undefined
        ? []
        : [{ name: 'Media queue', queue: this.media.queue, deadLetterQueue: this.media.deadLetterQueue }]),
    ];
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      endpoint: this.ingress.endpoint,
      functions: {
        Ingest: this.ingress.ingestFunction,
        Persist: this.persistence.persistFunction,
        ...(this.archive === undefined ? {} : { Archive: this.archive.archiveFunction }),
        ...(this.guardian === undefined ? {} : { Guardian: this.guardian.guardianFunction }),
      },
      queues: watchedQueues,
      tables,
      alarms: [...this.alarms.alarms, ...(this.media?.alarms ?? [])],
      guardian: this.guardian !== undefined,
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
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboard.dashboardName,
      description: 'CloudWatch dashboard of the whole pipeline, with the state of every alarm',
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
