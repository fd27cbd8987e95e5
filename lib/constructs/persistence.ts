// Persistence: the persist Lambda fed in batches from the events queue, writing the event log and current state.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../config.js';
import {
  DEFAULT_TIMESTAMP_MARGIN_SECONDS,
  ENV,
  PERSIST,
  type PersistSettings,
} from '../definitions/pipeline.js';
import { STATE_TABLES, type TableName, tableEnvName } from '../definitions/tables.js';
import { createHandlerFunction, handlerEntry } from './function-defaults.js';

/**
 * The tables persist writes events and state into: every table but the token registry, which only ingest and the
 * guardian touch, and the accounts table, where persist only marks when an account's events last arrived.
 */
export type DataTableName = Exclude<TableName, 'webhooks' | 'accounts'>;
export const DATA_TABLE_NAMES: readonly DataTableName[] = ['events', ...STATE_TABLES];

export interface PersistenceProps {
  /** The queue persist consumes. */
  readonly queue: sqs.IQueue;
  /** The queue's dead-letter queue: persist sends a record there itself when no retry can store it. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The media job queue: persist sends a job for each recording or voicemail an event links to and the call does not
   * hold archived yet.
   * @default none: no media job is sent
   */
  readonly mediaQueue?: sqs.IQueue;
  /** The tables persist writes, by name. */
  readonly tables: Readonly<Record<DataTableName, dynamodb.ITable>>;
  /**
   * Where persist notes, at most once a minute per account, when the account's events last arrived: what the
   * guardian tells a gap by.
   * @default nothing is noted
   */
  readonly accountsTable?: dynamodb.ITable;
  /**
   * Days an event stays in the event log; 0 keeps events forever.
   * @default 365
   */
  readonly eventRetentionDays?: number;
  /**
   * Seconds an event's timestamp may be ahead of its receive time and still order the state; beyond it the event
   * is ordered by its receive time.
   * @default 300
   */
  readonly timestampMarginSeconds?: number;
  /**
   * Function and event source settings.
   * @default PERSIST from lib/definitions/pipeline.ts
   */
  readonly settings?: PersistSettings;
  /**
   * Retention of the function's log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log group.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class Persistence extends Construct {
  public readonly persistFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: PersistenceProps) {
    super(scope, id);
    const settings = props.settings ?? PERSIST;

    const tableEnvironment: Record<string, string> = {};
    for (const name of DATA_TABLE_NAMES) tableEnvironment[tableEnvName(name)] = props.tables[name].tableName;

    this.persistFunction = createHandlerFunction(this, 'PersistFunction', {
      entry: handlerEntry('persist'),
      description: 'Writes each queued Aircall event to the event log and the current-state tables',
      memorySize: settings.memorySize,
      timeout: Duration.seconds(settings.timeoutSeconds),
      environment: {
        ...tableEnvironment,
        [ENV.eventRetentionDays]: String(props.eventRetentionDays ?? DEFAULT_CONFIG.eventRetentionDays),
        [ENV.timestampMarginSeconds]: String(
          props.timestampMarginSeconds ?? DEFAULT_TIMESTAMP_MARGIN_SECONDS,
        ),
        [ENV.deadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
        ...(props.accountsTable === undefined
          ? {}
          : { [tableEnvName('accounts')]: props.accountsTable.tableName }),
        ...(props.mediaQueue === undefined ? {} : { [ENV.mediaQueueUrl]: props.mediaQueue.queueUrl }),
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // As many as the event source runs at once: an account-wide throttle (another function's flood) never takes
      // them, so records are not handed back unprocessed and do not spend their receives on throttled invocations.
      reservedConcurrentExecutions: settings.maxConcurrency,
    });
    // What persist calls: a conditional PutItem per event into the log, a BatchWriteItem of each batch's receipts
    // into the same table, and a guarded UpdateItem per state change.
    // GetItem reads the owner of an item whose write failed its condition when DynamoDB returned no item with the
    // failure (it does on AWS; the read keeps the classification right wherever it does not).
    // Statements on the table ARNs alone: `table.grant` would add `<table>/index/*`, which item writes never need.
    this.persistFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
        resources: [props.tables.events.tableArn],
      }),
    );
    this.persistFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: STATE_TABLES.map((name) => props.tables[name].tableArn),
      }),
    );
    if (props.accountsTable !== undefined)
      this.persistFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [props.accountsTable.tableArn],
        }),
      );
    // SendMessage alone: `grantSendMessages` would add GetQueueAttributes and GetQueueUrl, which sending never needs.
    this.persistFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }),
    );
    if (props.mediaQueue !== undefined)
      this.persistFunction.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.mediaQueue.queueArn] }),
      );

    const eventSource = new SqsEventSource(props.queue, {
      batchSize: settings.batchSize,
      maxBatchingWindow: Duration.seconds(settings.maxBatchingWindowSeconds),
      maxConcurrency: settings.maxConcurrency,
      // Only the records that failed go back to the queue; the rest of the batch is deleted.
      reportBatchItemFailures: true,
    });
    this.persistFunction.addEventSource(eventSource);

    Validations.of(this.persistFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'The SQS event source invokes persist synchronously; a record that keeps failing moves to the queue ' +
          "dead-letter queue through the queue's redrive policy (or at once, sent by persist, when no retry can " +
          'store it), not to a function DLQ.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event sources take no on-failure destination; failed records reach the dead-letter queue through ' +
          'the redrive policy after maxReceiveCount receives.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'Active tracing needs xray:Put* on Resource "*"; queue depth, the dead-letter queue, function metrics and ' +
          'structured logs with the failed message ids are the signals for this consumer.',
      },
    );
  }
}
