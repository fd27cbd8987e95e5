// Lambda entry for POST /aircall/webhook: translates API Gateway HTTP API events to the ingest use case.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MethodNotAllowedError, WebhookError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { DynamoTokenRegistry, SqsEventQueue } from './adapters.js';
import { loadIngestConfig } from './config.js';
import { ingest } from './ingest.js';
import { CachedTokenRegistry } from './token-cache.js';

const config = loadIngestConfig();
const logger = createLogger('ingest');

// Aircall gives up after 5 s: three attempts of at most one second each, plus backoff, stay well inside it.
const clientOptions = { maxAttempts: 3, requestHandler: { connectionTimeout: 400, requestTimeout: 1000 } };

const clock = { now: () => Date.now() };
const deps = {
  queue: new SqsEventQueue(new SQSClient(clientOptions), config.queueUrl),
  registry: new CachedTokenRegistry(
    new DynamoTokenRegistry(new DynamoDBClient(clientOptions), config.webhooksTable),
    {
      positiveTtlMs: config.tokenCacheMs,
      negativeTtlMs: Math.min(config.tokenCacheMs, 5000),
      maxEntries: 10_000,
      now: clock.now,
    },
  ),
  clock,
  maxBodyBytes: config.maxBodyBytes,
};

const respond = (statusCode: number, body: Record<string, string>): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** The one place where errors become HTTP statuses. */
const toErrorResponse = (error: unknown): APIGatewayProxyStructuredResultV2 => {
  if (error instanceof WebhookError) {
    const detail = { status: error.statusCode, reason: error.message };
    if (error.statusCode >= 500) logger.error('webhook not accepted', { ...detail, error: error.cause });
    else logger.warn('webhook rejected', detail);
    return respond(error.statusCode, { message: error.publicMessage });
  }
  logger.error('unexpected failure', { error });
  return respond(500, { message: 'internal error' });
};

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  try {
    if (event.requestContext.http.method !== 'POST')
      throw new MethodNotAllowedError(event.requestContext.http.method);
    const accepted = await ingest({ body: event.body, isBase64Encoded: event.isBase64Encoded }, deps);
    logger.debug('webhook accepted', { ...accepted });
    return respond(200, { message: 'accepted' });
  } catch (error) {
    return toErrorResponse(error);
  }
};
