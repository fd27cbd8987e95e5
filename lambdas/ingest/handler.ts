// Lambda entry for POST /aircall/webhook: the handler factory, and the handler Lambda calls, built from the environment.

import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { INGEST_REJECTED_MESSAGE, INGEST_UNAVAILABLE_MESSAGE } from '../../lib/definitions/metrics.js';
import { ENV } from '../../lib/definitions/pipeline.js';
import type { ClientTarget } from '../shared/aws.js';
import { MethodNotAllowedError, WebhookError } from '../shared/errors.js';
import { builtOnFirstCall } from '../shared/first-call.js';
import { createLogger } from '../shared/logger.js';
import { DynamoTokenRegistry, SqsEventQueue } from './adapters.js';
import { type IngestConfig, loadIngestConfig } from './config.js';
import { type IngestDeps, ingest } from './ingest.js';
import type { Clock } from './ports.js';
import { CachedTokenRegistry } from './token-cache.js';

export type IngestHandler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface IngestHandlerDeps extends IngestDeps {
  readonly logger: Logger;
  /**
   * The one path answered, when nothing in front routes (a function URL); any other is answered 404.
   * @default any path: the HTTP API in front routes only the webhook's to ingest
   */
  readonly routePath?: string;
}

/** A path other than the webhook's, reaching ingest through a function URL, which routes nothing itself. */
export class NotFoundError extends WebhookError {
  readonly statusCode = 404;
  readonly publicMessage = 'not found';
}

const respond = (statusCode: number, body: Record<string, string>): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Builds the handler from its dependencies; nothing here reads the environment. */
export const createIngestHandler = (deps: IngestHandlerDeps): IngestHandler => {
  const { logger } = deps;

  /** The one place where errors become HTTP statuses. */
  const toErrorResponse = (error: unknown, correlationId: string): APIGatewayProxyStructuredResultV2 => {
    if (error instanceof WebhookError) {
      const detail = { status: error.statusCode, reason: error.message, correlation_id: correlationId };
      if (error.statusCode >= 500)
        logger.error(INGEST_UNAVAILABLE_MESSAGE, { ...detail, error: error.cause });
      // A metric filter counts the 401s of this line: keep its message and `status` as they are.
      else logger.warn(INGEST_REJECTED_MESSAGE, detail);
      return respond(error.statusCode, { message: error.publicMessage });
    }
    logger.error('unexpected failure', { error, correlation_id: correlationId });
    return respond(500, { message: 'internal error' });
  };

  return async (event, context) => {
    // The Lambda context on every line of this invocation (a function runs one invocation at a time).
    if (context !== undefined) logger.addContext(context);
    const correlationId = event.requestContext.requestId;
    try {
      // Path first, then method: what the HTTP API answers 404 to is answered 404 behind a function URL too.
      if (deps.routePath !== undefined && event.rawPath !== deps.routePath)
        throw new NotFoundError('path is not the webhook route');
      if (event.requestContext.http.method !== 'POST')
        throw new MethodNotAllowedError(event.requestContext.http.method);
      // API Gateway hands the function its header names in lower case.
      const accepted = await ingest(
        {
          body: event.body,
          isBase64Encoded: event.isBase64Encoded,
          contentType: event.headers['content-type'],
          correlationId,
        },
        deps,
      );
      logger.debug('webhook accepted', { ...accepted, correlation_id: correlationId });
      return respond(200, { message: 'accepted' });
    } catch (error) {
      return toErrorResponse(error, correlationId);
    }
  };
};

export interface IngestClients {
  readonly registry: DynamoDBClient;
  readonly queue: SQSClient;
}

/**
 * The clients ingest talks through. Aircall gives up after 5 s. Worst case with a cold token cache: two
 * registry reads of 0.5 s and three enqueue attempts of 0.7 s, with fixed pauses of 50 and 100 ms between them
 * (the SDK's default backoff grows from 500 ms on throttling), answer 503 in about 3.4 s. Without
 * throwOnRequestTimeout the SDK only warns when requestTimeout passes, and waits on.
 */
export const createIngestClients = (
  targets: { readonly registry?: ClientTarget; readonly queue?: ClientTarget } = {},
): IngestClients => ({
  registry: new DynamoDBClient({
    ...targets.registry,
    retryStrategy: new ConfiguredRetryStrategy(2, 50),
    requestHandler: { connectionTimeout: 300, requestTimeout: 500, throwOnRequestTimeout: true },
  }),
  queue: new SQSClient({
    ...targets.queue,
    retryStrategy: new ConfiguredRetryStrategy(3, 100),
    // The endpoint, not the queue URL's host, decides where requests go: identical on AWS, and
    // what lets an embedded SQS that names its queues `sqs.<region>.localhost` work locally.
    useQueueUrlAsEndpoint: false,
    requestHandler: { connectionTimeout: 300, requestTimeout: 700, throwOnRequestTimeout: true },
  }),
});

const systemClock: Clock = { now: () => Date.now() };

/** The use case's adapters over the given clients, as the deployed function wires them. */
export const ingestDependencies = (
  config: IngestConfig,
  clients: IngestClients,
  clock: Clock = systemClock,
): IngestDeps => ({
  queue: new SqsEventQueue(clients.queue, config.queueUrl),
  registry: new CachedTokenRegistry(new DynamoTokenRegistry(clients.registry, config.webhooksTable), {
    positiveTtlMs: config.tokenCacheMs,
    negativeTtlMs: Math.min(config.tokenCacheMs, 5000),
    maxEntries: 10_000,
    now: clock.now,
  }),
  clock,
  maxBodyBytes: config.maxBodyBytes,
  maxPayloadBytes: config.maxPayloadBytes,
});

/** The route path the stack set for ingest to check (behind a function URL), or undefined when it set none. */
export const loadRoutePath = (
  source: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined => {
  const path = source[ENV.webhookRoutePath];
  if (path === undefined || path === '') return undefined;
  if (!path.startsWith('/'))
    throw new Error(`${ENV.webhookRoutePath} must be a path starting with /, got "${path}"`);
  return path;
};

export const handler: IngestHandler = builtOnFirstCall(() =>
  createIngestHandler({
    ...ingestDependencies(loadIngestConfig(), createIngestClients()),
    routePath: loadRoutePath(),
    logger: createLogger('ingest'),
  }),
);
