// Ingress: the public HTTP API that routes Aircall's POST to the ingest Lambda, throttled and access-logged.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../config.js';
import { ENV } from '../definitions/pipeline.js';
import { tableEnvName } from '../definitions/tables.js';
import { createHandlerFunction, handlerEntry } from './function-defaults.js';

export interface IngressProps {
  /** Where ingest enqueues every accepted event. */
  readonly queue: sqs.IQueue;
  /** The token registry ingest checks each webhook against. */
  readonly webhooksTable: dynamodb.ITable;
  /**
   * Path of the webhook route.
   * @default '/aircall/webhook'
   */
  readonly webhookPath?: string;
  /**
   * Steady-state requests per second.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests accepted in a burst.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Seconds ingest caches a token lookup.
   * @default 60
   */
  readonly tokenCacheSeconds?: number;
  /**
   * Largest `data` an event may carry, in bytes as JSON and as DynamoDB encodes it; larger is answered 413.
   * @default 65536
   */
  readonly maxPayloadBytes?: number;
  /**
   * Retention of the access log and of the function's log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log groups.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The access log's field that holds the status answered, as a string: the throttling metric filter reads it. */
export const ACCESS_LOG_STATUS_FIELD = 'status';

// HTTP API context variables only; neither the body nor the query string is logged, so no token is either.
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    method: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    [ACCESS_LOG_STATUS_FIELD]: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

export class Ingress extends Construct {
  public readonly httpApi: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  /** The JSON access log of every request the API answered, throttled ones included. */
  public readonly accessLogGroup: logs.LogGroup;
  public readonly ingestFunction: NodejsFunction;
  /** Full URL of the webhook route, to register at Aircall. */
  public readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const webhookPath = props.webhookPath ?? DEFAULT_CONFIG.webhookPath;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.ingestFunction = createHandlerFunction(this, 'IngestFunction', {
      entry: handlerEntry('ingest'),
      description: 'Checks the token of each Aircall webhook and enqueues the event',
      memorySize: 512,
      // Aircall gives up after 5 s; failing at 4 s still leaves time for API Gateway to answer.
      timeout: Duration.seconds(4),
      environment: {
        [ENV.eventsQueueUrl]: props.queue.queueUrl,
        [tableEnvName('webhooks')]: props.webhooksTable.tableName,
        [ENV.tokenCacheSeconds]: String(props.tokenCacheSeconds ?? DEFAULT_CONFIG.tokenCacheSeconds),
        [ENV.maxPayloadBytes]: String(props.maxPayloadBytes ?? DEFAULT_CONFIG.maxPayloadBytes),
      },
      logRetention,
      removalPolicy,
    });
    // Exactly what ingest does: one SendMessage per event and one GetItem per uncached token.
    props.queue.grant(this.ingestFunction, 'sqs:SendMessage');
    props.webhooksTable.grant(this.ingestFunction, 'dynamodb:GetItem');
    Validations.of(this.ingestFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'API Gateway invokes ingest synchronously: a failure is answered 5xx and Aircall retries; no async event to park.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'HTTP APIs start no X-Ray trace to continue, and active tracing needs xray:Put* on Resource "*" plus work on ' +
          'every call of a function meant to answer in milliseconds; the access log, logs and metrics cover it.',
      },
    );

    // The default stage is built by hand, because HttpApi's own default stage takes no throttling or access log.
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Receives Aircall webhooks',
      createDefaultStage: false,
    });
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogGroup', {
      retention: logRetention,
      removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? DEFAULT_CONFIG.throttlingRateLimit,
        burstLimit: props.throttlingBurstLimit ?? DEFAULT_CONFIG.throttlingBurstLimit,
      },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });

    const routes = this.httpApi.addRoutes({
      path: webhookPath,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('IngestIntegration', this.ingestFunction, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Aircall cannot sign requests or send credentials in headers: it authenticates each webhook by a token in ' +
          'the body, which ingest checks (constant-time, against the hashed registry) before enqueuing anything.',
      });
    }

    // The $default stage serves at the root of the API endpoint.
    this.webhookUrl = `${this.httpApi.apiEndpoint}${webhookPath}`;
  }
}
