// Ingress: the public endpoint in front of the ingest Lambda: an HTTP API, throttled and access-logged, or a function URL.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG, type IngressKind } from '../config.js';
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
   * What receives the webhooks in front of ingest.
   * @default 'http-api'
   */
  readonly kind?: IngressKind;
  /**
   * Steady-state requests per second (HTTP API only).
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests accepted in a burst (HTTP API only).
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Ingest functions at once (function URL only): a function URL has no stage to throttle, so this is its throttle;
   * above it callers get 429.
   * @default 20
   */
  readonly reservedConcurrency?: number;
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
   * Retention of the access log (HTTP API) and of the function's log.
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

/** The HTTP API in front of ingest: it routes, throttles and logs every request. */
export interface HttpApiEndpoint {
  readonly kind: 'http-api';
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The JSON access log of every request the API answered, throttled ones included. */
  readonly accessLogGroup: logs.LogGroup;
}

/** The function URL of ingest: no routing, throttling or access log of its own. */
export interface FunctionUrlEndpoint {
  readonly kind: 'function-url';
  readonly functionUrl: lambda.FunctionUrl;
  /** The function the URL invokes: Lambda publishes the URL's metrics under its name. */
  readonly ingestFunction: lambda.IFunction;
}

export type WebhookEndpoint = HttpApiEndpoint | FunctionUrlEndpoint;

export class Ingress extends Construct {
  /** What receives the webhooks: the HTTP API with its stage and access log, or the function URL. */
  public readonly endpoint: WebhookEndpoint;
  public readonly ingestFunction: NodejsFunction;
  /** Full URL of the webhook route, to register at Aircall. */
  public readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const webhookPath = props.webhookPath ?? DEFAULT_CONFIG.webhookPath;
    const kind = props.kind ?? DEFAULT_CONFIG.ingress;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const invoker = kind === 'http-api' ? 'API Gateway' : 'Its function URL';

    this.ingestFunction = createHandlerFunction(this, 'IngestFunction', {
      entry: handlerEntry('ingest'),
      description: 'Checks the token of each Aircall webhook and enqueues the event',
      memorySize: 512,
      // Aircall gives up after 5 s; failing at 4 s still leaves time for the endpoint to answer.
      timeout: Duration.seconds(4),
      environment: {
        [ENV.eventsQueueUrl]: props.queue.queueUrl,
        [tableEnvName('webhooks')]: props.webhooksTable.tableName,
        [ENV.tokenCacheSeconds]: String(props.tokenCacheSeconds ?? DEFAULT_CONFIG.tokenCacheSeconds),
        [ENV.maxPayloadBytes]: String(props.maxPayloadBytes ?? DEFAULT_CONFIG.maxPayloadBytes),
        // A function URL routes nothing: ingest itself answers 404 to any other path, as the HTTP API does.
        ...(kind === 'function-url' ? { [ENV.webhookRoutePath]: webhookPath } : {}),
      },
      logRetention,
      removalPolicy,
      // A function URL has no stage throttle: the reserved concurrency is the throttle, and what it reserves no
      // other function of the account can take. Over it the URL answers 429, which Aircall retries.
      ...(kind === 'function-url'
        ? {
            reservedConcurrentExecutions:
              props.reservedConcurrency ?? DEFAULT_CONFIG.ingestReservedConcurrency,
          }
        : {}),
    });
    // Exactly what ingest does: one SendMessage per event and one GetItem per uncached token.
    props.queue.grant(this.ingestFunction, 'sqs:SendMessage');
    props.webhooksTable.grant(this.ingestFunction, 'dynamodb:GetItem');
    Validations.of(this.ingestFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason: `${invoker} invokes ingest synchronously: a failure is answered 5xx and Aircall retries; no async event to park.`,
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          kind === 'http-api'
            ? 'HTTP APIs start no X-Ray trace to continue, and active tracing needs xray:Put* on Resource "*" plus work on ' +
              'every call of a function meant to answer in milliseconds; the access log, logs and metrics cover it.'
            : 'Aircall sends no trace to continue, and active tracing needs xray:Put* on Resource "*" plus work on ' +
              "every call of a function meant to answer in milliseconds; the function's log and URL metrics cover it.",
      },
    );

    if (kind === 'http-api') {
      const endpoint = this.createHttpApi(props, webhookPath, logRetention, removalPolicy);
      this.endpoint = endpoint;
      // The $default stage serves at the root of the API endpoint.
      this.webhookUrl = `${endpoint.httpApi.apiEndpoint}${webhookPath}`;
    } else {
      const endpoint = this.createFunctionUrl();
      this.endpoint = endpoint;
      // The function URL ends in a slash and serves at its root.
      this.webhookUrl = `${endpoint.functionUrl.url}${webhookPath.slice(1)}`;
    }
  }

  private createHttpApi(
    props: IngressProps,
    webhookPath: string,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): HttpApiEndpoint {
    // The default stage is built by hand, because HttpApi's own default stage takes no throttling or access log.
    const httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Receives Aircall webhooks',
      createDefaultStage: false,
    });
    const accessLogGroup = new logs.LogGroup(this, 'AccessLogGroup', {
      retention: logRetention,
      removalPolicy,
    });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? DEFAULT_CONFIG.throttlingRateLimit,
        burstLimit: props.throttlingBurstLimit ?? DEFAULT_CONFIG.throttlingBurstLimit,
      },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });

    const routes = httpApi.addRoutes({
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
    return { kind: 'http-api', httpApi, stage, accessLogGroup };
  }

  private createFunctionUrl(): FunctionUrlEndpoint {
    // No IAM auth: Aircall cannot sign requests (SigV4) and authenticates by the token in the body, which ingest
    // checks before enqueuing anything. Buffered: ingest answers one small JSON body. No CORS: no browser calls it.
    const functionUrl = new lambda.FunctionUrl(this, 'FunctionUrl', {
      function: this.ingestFunction,
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });
    return { kind: 'function-url', functionUrl, ingestFunction: this.ingestFunction };
  }
}
