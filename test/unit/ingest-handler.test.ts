// The ingest handler behind a Lambda function URL: the payload format 2.0 event it sends, and the one path answered.
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createIngestHandler, loadRoutePath } from '../../lambdas/ingest/handler.js';
import type {
  EventQueue,
  QueuedWebhook,
  RegisteredWebhook,
  TokenRegistry,
} from '../../lambdas/ingest/ports.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { ENV } from '../../lib/definitions/pipeline.js';
import { captureOutput } from '../support/capture.js';
import { SAMPLE_TOKEN, sampleBody } from '../support/fixtures.js';

const ROUTE = '/aircall/webhook';

class FakeQueue implements EventQueue {
  readonly sent: QueuedWebhook[] = [];
  async send(message: QueuedWebhook): Promise<void> {
    this.sent.push(message);
  }
}

class FakeRegistry implements TokenRegistry {
  async find(tokenHash: string): Promise<RegisteredWebhook | undefined> {
    return tokenHash === hashToken(SAMPLE_TOKEN) ? { account: 'acme', tokenHash } : undefined;
  }
}

/** A request as a Lambda function URL delivers it (payload format 2.0, routeKey `$default`, no stage). */
const functionUrlRequest = (
  path: string,
  options: { method?: string; body?: string } = {},
): APIGatewayProxyEventV2 => {
  const method = options.method ?? 'POST';
  const domainName = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: domainName, 'user-agent': 'axios/0.21.1' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName,
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '52.48.0.10', userAgent: 'axios/0.21.1' },
      requestId: 'c2a8d4e6-0f0e-4d5b-9a9a-0d1f6f4b7c11',
      routeKey: '$default',
      stage: '$default',
      time: '04/Mar/2022:10:29:46 +0000',
      timeEpoch: 1_646_389_786_000,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
};

const setup = (routePath: string | undefined) => {
  const queue = new FakeQueue();
  const handler = createIngestHandler({
    queue,
    registry: new FakeRegistry(),
    clock: { now: () => 1_646_389_786_000 },
    maxBodyBytes: 200_000,
    maxPayloadBytes: 65_536,
    logger: new Logger({ serviceName: 'ingest', logLevel: 'WARN' }),
    routePath,
  });
  const invoke = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    (await captureOutput(() => handler(event))).result;
  return { queue, invoke };
};

const body = sampleBody('captured-outbound-call.ended');

describe('ingest handler behind a function URL', () => {
  it('answers 200 and enqueues the event posted to the webhook path', async () => {
    const { queue, invoke } = setup(ROUTE);

    const result = await invoke(functionUrlRequest(ROUTE, { body }));

    expect(result.statusCode).toBe(200);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]?.account).toBe('acme');
    expect(queue.sent[0]?.correlationId).toBe('c2a8d4e6-0f0e-4d5b-9a9a-0d1f6f4b7c11');
  });

  it.each([
    ['the root', '/'],
    ['another path', '/admin'],
    ['the path with a trailing slash', `${ROUTE}/`],
    ['a path below it', `${ROUTE}/extra`],
  ])('answers 404 and enqueues nothing for a POST to %s', async (_case, path) => {
    const { queue, invoke } = setup(ROUTE);

    const result = await invoke(functionUrlRequest(path, { body }));

    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body ?? 'null')).toEqual({ message: 'not found' });
    expect(queue.sent).toEqual([]);
  });

  it('answers 404 to a GET on another path, and 405 to a GET on the webhook path', async () => {
    const { queue, invoke } = setup(ROUTE);

    expect((await invoke(functionUrlRequest('/favicon.ico', { method: 'GET' }))).statusCode).toBe(404);
    expect((await invoke(functionUrlRequest(ROUTE, { method: 'GET' }))).statusCode).toBe(405);
    expect(queue.sent).toEqual([]);
  });

  it('checks no path when no route path is set, as behind the HTTP API that routes for it', async () => {
    const { queue, invoke } = setup(undefined);

    // A custom domain's API mapping key shows in rawPath: the HTTP API already routed this request to ingest.
    const result = await invoke(functionUrlRequest(`/hooks${ROUTE}`, { body }));

    expect(result.statusCode).toBe(200);
    expect(queue.sent).toHaveLength(1);
  });
});

describe('loadRoutePath', () => {
  it('reads the route path the stack sets behind a function URL', () => {
    expect(loadRoutePath({ [ENV.webhookRoutePath]: ROUTE })).toBe(ROUTE);
  });

  it('is undefined when the stack sets none', () => {
    expect(loadRoutePath({})).toBeUndefined();
  });

  it('refuses a value that is not a path', () => {
    expect(() => loadRoutePath({ [ENV.webhookRoutePath]: 'aircall/webhook' })).toThrow(
      /WEBHOOK_ROUTE_PATH must be a path starting with \//,
    );
  });
});
