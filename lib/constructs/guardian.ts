// Guardian: a scheduled Lambda that keeps the token registry in step with Aircall and re-enables deactivated webhooks.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../config.js';
import { ALARMED_GUARDIAN_METRICS } from '../definitions/metrics.js';
import { AIRCALL_API_URL, ENV, GUARDIAN } from '../definitions/pipeline.js';
import { STATE_TABLES, type StateTableName, tableEnvName } from '../definitions/tables.js';
import { WEBHOOK_URL_SEPARATOR } from '../definitions/webhook-urls.js';
import { decryptSecretStatement } from './aircall-secret.js';
import { createHandlerFunction, handlerEntry } from './function-defaults.js';

/** What the guardian does to the registry: upsert rows, record re-enables, list an account's rows, drop stale ones. */
export const GUARDIAN_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Scan',
];

/** What gap repair reads and writes: the events queue it sends fetched objects to, and the tables it checks. */
export interface GapRepairResources {
  readonly eventsQueue: sqs.IQueue;
  readonly accountsTable: dynamodb.ITable;
  readonly stateTables: Readonly<Record<StateTableName, dynamodb.ITable>>;
}

export interface GuardianProps {
  /** The token registry. */
  readonly webhooksTable: dynamodb.ITable;
  /**
   * After each pass, read the gaps in each account's events from Aircall's API into the events queue.
   * @default no gap repair
   */
  readonly gapRepair?: GapRepairResources;
  /** Name of the Secrets Manager secret holding the Aircall credentials of every account. */
  readonly secretName: string;
  /**
   * ARN of the customer-managed KMS key the secret is encrypted with: the function may decrypt with it only through
   * Secrets Manager, and only for this secret.
   * @default the secret uses the AWS-managed key `aws/secretsmanager`, which needs no grant
   */
  readonly secretKmsKeyArn?: string;
  /**
   * Every URL Aircall may deliver to for this stack (the API's own, and any custom domain in front of it): the
   * webhooks pointing at one of them are the ones the guardian keeps alive.
   */
  readonly webhookUrls: readonly string[];
  /**
   * EventBridge schedule expression.
   * @default 'rate(5 minutes)'
   */
  readonly schedule?: string;
  /**
   * Base URL of the Aircall Public API.
   * @default 'https://api.aircall.io/v1'
   */
  readonly aircallApiUrl?: string;
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

const gapRepairEnvironment = (repair: GapRepairResources): Record<string, string> => ({
  [ENV.eventsQueueUrl]: repair.eventsQueue.queueUrl,
  [tableEnvName('accounts')]: repair.accountsTable.tableName,
  ...Object.fromEntries(STATE_TABLES.map((name) => [tableEnvName(name), repair.stateTables[name].tableName])),
});

export class Guardian extends Construct {
  public readonly guardianFunction: NodejsFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: GuardianProps) {
    super(scope, id);
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'AircallCredentials', props.secretName);

    this.guardianFunction = createHandlerFunction(this, 'GuardianFunction', {
      entry: handlerEntry('guardian'),
      description: 'Keeps the Aircall webhooks of this stack registered and active',
      memorySize: GUARDIAN.memorySize,
      timeout: Duration.seconds(GUARDIAN.timeoutSeconds),
      // The secret's name only: the credentials are read at run time and never sit in the environment.
      environment: {
        [tableEnvName('webhooks')]: props.webhooksTable.tableName,
        [ENV.aircallSecretId]: props.secretName,
        [ENV.webhookUrls]: props.webhookUrls.join(WEBHOOK_URL_SEPARATOR),
        [ENV.aircallApiUrl]: props.aircallApiUrl ?? AIRCALL_API_URL,
        ...(props.gapRepair === undefined ? {} : gapRepairEnvironment(props.gapRepair)),
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // One pass at a time: a slow pass and the next tick never list, count absences and re-enable side by side.
    (this.guardianFunction.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = 1;
    // A failed or throttled tick is not replayed: the next tick re-reads everything, and a stale one would only
    // queue up behind the running pass (Lambda keeps throttled events up to six hours unless told otherwise).
    this.guardianFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    // grantRead knows that a secret named without its ARN needs the `-??????` suffix Secrets Manager appends.
    secret.grantRead(this.guardianFunction);
    if (props.secretKmsKeyArn !== undefined)
      this.guardianFunction.addToRolePolicy(
        decryptSecretStatement(this, props.secretName, props.secretKmsKeyArn),
      );
    this.guardianFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...GUARDIAN_TABLE_ACTIONS],
        resources: [props.webhooksTable.tableArn],
      }),
    );

    const repair = props.gapRepair;
    if (repair !== undefined) {
      // Gap repair: the account's record read and moved on, the stored order of fetched objects read in batches,
      // and the objects that change it sent where webhook events go. No write to the data tables: persist does that.
      this.guardianFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [repair.accountsTable.tableArn],
        }),
      );
      this.guardianFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:BatchGetItem'],
          resources: STATE_TABLES.map((name) => repair.stateTables[name].tableArn),
        }),
      );
      this.guardianFunction.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [repair.eventsQueue.queueArn] }),
      );
    }

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs the guardian',
      schedule: events.Schedule.expression(props.schedule ?? DEFAULT_CONFIG.guardianSchedule),
      // A failed run is simply the next run: retrying a stale one would only double the Aircall calls.
      targets: [new targets.LambdaFunction(this.guardianFunction, { retryAttempts: 0 })],
    });

    Validations.of(this.schedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A schedule tick carries no data: one that fails to invoke the guardian is replaced by the next tick, ' +
        'so a dead-letter queue would only collect empty events.',
    });
    Validations.of(this.guardianFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Each scheduled run re-reads everything from Aircall; a failed run is superseded by the next one, and ' +
          `its failures are logged and counted in the ${ALARMED_GUARDIAN_METRICS.join(', ')} metrics, each alarmed.`,
      },
      {
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Same reason: a scheduled pass has nothing to replay; the next pass does the work again.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'Active tracing needs xray:Put* on Resource "*"; a run every few minutes is fully described by its log.',
      },
    );
  }
}
