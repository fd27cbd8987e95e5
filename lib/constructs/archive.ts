// Archive: the archive Lambda fed from the media queue, copying each recording or voicemail into the media bucket.
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ARCHIVE, ARCHIVE_ENV, type ArchiveSettings, MEDIA_SIZE_CAP } from '../definitions/archive.js';
import { ENV } from '../definitions/pipeline.js';
import { tableEnvName } from '../definitions/tables.js';
import { wildcardResourceFinding } from '../nag.js';
import { decryptSecretStatement, secretArnByName } from './aircall-secret.js';
import { createHandlerFunction, handlerEntry } from './function-defaults.js';

export interface ArchiveProps {
  /** The media job queue the archive consumes. */
  readonly queue: sqs.IQueue;
  /** The media queue's dead-letter queue: the archive sends a job there itself when no retry can archive it. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The bucket the files are written to. */
  readonly bucket: s3.IBucket;
  /** The calls table, where each file's archive is recorded on its call. */
  readonly callsTable: dynamodb.ITable;
  /**
   * Largest file the archive downloads, in bytes; it also sizes the function's /tmp.
   * @default MEDIA_SIZE_CAP.defaultBytes (512 MiB)
   */
  readonly maxMediaBytes?: number;
  /**
   * Origins (`https://host[:port]`, `*.host`) the archive may download from.
   * @default the archive's built-in Aircall media hosts
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Archive invocations at once, at most (2 or more, as SQS event sources require).
   * @default ARCHIVE.maxConcurrency
   */
  readonly maxConcurrency?: number;
  /**
   * Name of the Secrets Manager secret holding the Aircall credentials, used to fetch a fresh link once one expired.
   * @default none: a job whose link has expired goes to the media dead-letter queue at once, saying so
   */
  readonly secretName?: string;
  /**
   * ARN of the customer-managed KMS key the secret is encrypted with; only with `secretName`.
   * @default the secret uses the AWS-managed key `aws/secretsmanager`, which needs no grant
   */
  readonly secretKmsKeyArn?: string;
  /**
   * Function and event source settings.
   * @default ARCHIVE from lib/definitions/archive.ts
   */
  readonly settings?: ArchiveSettings;
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

const MIB = 1024 * 1024;
/** What Lambda gives every function, and the least it accepts. */
const MIN_EPHEMERAL_MIB = 512;
const MAX_EPHEMERAL_MIB = 10_240;
/** Room beyond the staged files: the file system's overhead and whatever else the runtime keeps in /tmp. */
const EPHEMERAL_MARGIN_MIB = 256;

/**
 * The /tmp the archive needs: each job of a batch stages its whole download there before the upload starts (so the
 * object's SHA-256 is known when it is written), and a batch may hold `batchSize` files of the largest size at once.
 */
export const archiveEphemeralMiB = (batchSize: number, maxMediaBytes: number): number => {
  const needed = Math.ceil((batchSize * maxMediaBytes) / MIB) + EPHEMERAL_MARGIN_MIB;
  if (needed > MAX_EPHEMERAL_MIB)
    throw new Error(
      `${batchSize} files of ${maxMediaBytes} bytes need ${needed} MiB of /tmp, beyond Lambda's ${MAX_EPHEMERAL_MIB} MiB`,
    );
  return Math.max(MIN_EPHEMERAL_MIB, needed);
};

export class Archive extends Construct {
  public readonly archiveFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const settings = props.settings ?? ARCHIVE;
    const maxMediaBytes = props.maxMediaBytes ?? MEDIA_SIZE_CAP.defaultBytes;
    const maxConcurrency = props.maxConcurrency ?? settings.maxConcurrency;
    if (props.secretKmsKeyArn !== undefined && props.secretName === undefined)
      throw new Error('secretKmsKeyArn is set but secretName is not: the key encrypts that secret');

    this.archiveFunction = createHandlerFunction(this, 'ArchiveFunction', {
      entry: handlerEntry('archive'),
      description: 'Copies each queued recording or voicemail from its Aircall link into the media bucket',
      memorySize: settings.memorySize,
      timeout: Duration.seconds(settings.timeoutSeconds),
      environment: {
        [ARCHIVE_ENV.mediaBucket]: props.bucket.bucketName,
        [tableEnvName('calls')]: props.callsTable.tableName,
        [ARCHIVE_ENV.mediaDeadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
        [ARCHIVE_ENV.mediaMaxBytes]: String(maxMediaBytes),
        ...(props.allowedOrigins === undefined
          ? {}
          : { [ARCHIVE_ENV.allowedOrigins]: props.allowedOrigins.join(',') }),
        // The secret's name only: the credentials are read at run time and never sit in the environment.
        ...(props.secretName === undefined ? {} : { [ENV.aircallSecretId]: props.secretName }),
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ephemeralStorageSize: Size.mebibytes(archiveEphemeralMiB(settings.batchSize, maxMediaBytes)),
      // As many as the event source runs at once, as persist reserves: jobs do not spend their receives on throttles.
      reservedConcurrentExecutions: maxConcurrency,
    });

    // What the archive calls: a PUT, or a multipart upload (its create, parts and completion are all s3:PutObject),
    // aborted when it fails. No read, list or delete: the archive never needs an object back.
    const objects = props.bucket.arnForObjects('*');
    this.archiveFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [objects] }),
    );
    if (this.archiveFunction.role !== undefined)
      Validations.of(this.archiveFunction.role).acknowledge({
        id: wildcardResourceFinding(this, objects),
        reason:
          'Object keys are made at run time from the account and call id of each job, so the archive writes under ' +
          'any key of its own media bucket; it may only put objects and abort its uploads, never read, list or delete.',
      });
    // UpdateItem takes the file's lease and records its archive, each guarded; GetItem reads why a guarded write was
    // refused when DynamoDB returned no item with the failure. On the table ARN alone, as persist's statements are.
    this.archiveFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [props.callsTable.tableArn],
      }),
    );
    // SendMessage alone: `grantSendMessages` would add GetQueueAttributes and GetQueueUrl, which sending never needs.
    this.archiveFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }),
    );
    if (props.secretName !== undefined) {
      // GetSecretValue alone: the archive never describes the secret, so not `grantRead`, which would add it.
      this.archiveFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretArnByName(this, props.secretName)],
        }),
      );
      if (props.secretKmsKeyArn !== undefined)
        this.archiveFunction.addToRolePolicy(
          decryptSecretStatement(this, props.secretName, props.secretKmsKeyArn),
        );
    }

    this.archiveFunction.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: settings.batchSize,
        maxConcurrency,
        // Only the jobs that failed go back to the queue; the rest of the batch is deleted.
        reportBatchItemFailures: true,
      }),
    );

    Validations.of(this.archiveFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'The SQS event source invokes the archive synchronously; a job that keeps failing moves to the media ' +
          "dead-letter queue through the queue's redrive policy (or at once, sent by the archive, when no retry can " +
          'archive it), not to a function DLQ.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event sources take no on-failure destination; failed jobs reach the media dead-letter queue through ' +
          'the redrive policy after maxReceiveCount receives, and its alarms fire on each arrival.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'Active tracing needs xray:Put* on Resource "*"; the media queues, their dead-letter alarms, function ' +
          'metrics and structured logs naming each job (never its link) are the signals for this consumer.',
      },
    );
  }
}
