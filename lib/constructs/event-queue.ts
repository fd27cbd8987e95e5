// EventQueue: the durable buffer between ingest and persist, with a dead-letter queue after bounded receives.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENTS_QUEUE, type QueueSettings } from '../definitions/pipeline.js';

export interface EventQueueProps {
  /**
   * Visibility timeout, retention, message size and redrive settings.
   * @default EVENTS_QUEUE from lib/definitions/pipeline.ts
   */
  readonly settings?: QueueSettings;
  /**
   * Whether the queues outlive the stack, as the tables do: the dead-letter queue may hold the only copy of an
   * event, and the events queue what persist has not stored yet.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Both queues are encrypted with SQS-managed keys (no KMS key to pay for or to grant) and refuse plain HTTP,
 * and follow the stack's removal policy like the tables.
 */
export class EventQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventQueueProps = {}) {
    super(scope, id);
    const settings = props.settings ?? EVENTS_QUEUE;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: settings.maxMessageSizeBytes,
      retentionPeriod: Duration.seconds(settings.deadLetterRetentionSeconds),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue, the end of the line: nothing consumes it automatically, an operator ' +
        'inspects and redrives its messages (kept 14 days), so there is no further queue to redrive to.',
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Explicit, so the 413 threshold ingest applies is visible in the template and not a service default.
      maxMessageSizeBytes: settings.maxMessageSizeBytes,
      visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(settings.retentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
      removalPolicy,
    });
  }
}
