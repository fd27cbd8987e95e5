// Over HTTP, every server of the local stack refuses what a web page could send it: any request carrying an
// Origin (preflights included) and any Host that is not loopback, as a DNS-rebinding page sends; the SDK clients
// and the CLI still get through.

import { request } from 'node:http';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { localTarget } from '../../cli/target.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { localSqsClientConfig } from '../../local/clients.js';
import { recordingIo } from '../cli/io.js';
import { sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';
import { getItem, scanTable } from '../support/tables.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with exactly these headers: fetch would neither send a Host of our choosing nor an Origin. */
const send = (
  url: string,
  init: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers ?? {} },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(init.body);
  });

const corsHeaders = (answer: Answer): string[] =>
  Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'));

const ORIGIN = { origin: 'https://evil.example' };
const REBOUND = (port: string) => ({ host: `evil.example:${port}` });

const dynamoCall = (target: string, body: unknown) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${target}`,
    'x-amz-date': '20220304T102946Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=local/20220304/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
  },
  body: JSON.stringify(body),
});

const sqsCall = (target: string, body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${target}` },
  body: JSON.stringify(body),
});

describe('local servers and the browser', () => {
  let local: TestLocalStack;
  let sqs: SQSClient;
  const FORGED_TOKEN = 'forged-by-a-web-page';

  beforeAll(async () => {
    local = await startTestLocalStack({ simulator: { port: 0, eventsPerSecond: 0 } });
    sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
  });

  afterAll(async () => {
    sqs.destroy();
    await local.dispose();
  });

  const queued = async (): Promise<number> => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: local.stack.queues.queueUrl, AttributeNames: ['All'] }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  };

  const servers = () => {
    const simulator = local.stack.simulator?.simulator.url ?? '';
    return {
      webhook: local.stack.webhookUrl,
      dynamodb: local.stack.endpoints.dynamodb,
      'sqs and s3': local.stack.endpoints.sqs,
      simulator: `${simulator}/v1/ping`,
    };
  };

  it('answers 403 without a CORS header to a preflight and to a request carrying an Origin, on all four servers', async () => {
    for (const [name, url] of Object.entries(servers())) {
      const preflight = await send(url, {
        method: 'OPTIONS',
        headers: {
          ...ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-amz-target',
        },
      });
      const simple = await send(url, {
        method: 'POST',
        headers: { ...ORIGIN, 'content-type': 'text/plain' },
        body: '{}',
      });
      expect({ name, preflight: preflight.status, simple: simple.status }).toEqual({
        name,
        preflight: 403,
        simple: 403,
      });
      expect([...corsHeaders(preflight), ...corsHeaders(simple)]).toEqual([]);
      expect(JSON.parse(simple.body)).toEqual({ message: 'Forbidden' });
    }
  });

  it('answers 403 on all four servers to a Host that is not loopback, as after DNS rebinding', async () => {
    for (const [name, url] of Object.entries(servers())) {
      const answer = await send(url, { method: 'POST', headers: REBOUND(new URL(url).port), body: '{}' });
      expect({ name, status: answer.status }).toEqual({ name, status: 403 });
      expect(corsHeaders(answer)).toEqual([]);
    }
  });

  it('writes no registry row for a page that posts PutItem, though the same request without Origin works', async () => {
    const item = { token_hash: { S: hashToken(FORGED_TOKEN) }, account: { S: 'attacker' } };
    const put = dynamoCall('PutItem', { TableName: local.settings.tables.webhooks, Item: item });
    const rebound = await send(local.stack.endpoints.dynamodb, {
      ...put,
      headers: { ...put.headers, ...REBOUND(new URL(local.stack.endpoints.dynamodb).port) },
    });
    const refused = await send(local.stack.endpoints.dynamodb, {
      ...put,
      headers: { ...put.headers, ...ORIGIN },
    });
    const scan = dynamoCall('Scan', { TableName: local.settings.tables.webhooks });
    const scanned = await send(local.stack.endpoints.dynamodb, {
      ...scan,
      headers: { ...scan.headers, ...ORIGIN },
    });

    expect([rebound.status, refused.status, scanned.status]).toEqual([403, 403, 403]);
    expect(scanned.body).not.toContain('token_hash');
    expect(
      await getItem(local.documents, local.settings.tables.webhooks, { token_hash: hashToken(FORGED_TOKEN) }),
    ).toBeUndefined();
    const listed = await send(local.stack.endpoints.dynamodb, dynamoCall('ListTables', {}));
    expect(listed.status).toBe(200);
  });

  it('queues nothing for a page that posts SendMessage or a webhook, and creates no bucket', async () => {
    const before = await queued();
    const message = sqsCall('SendMessage', {
      QueueUrl: local.stack.queues.queueUrl,
      MessageBody: 'from a page',
    });
    const sent = await send(local.stack.endpoints.sqs, {
      ...message,
      headers: { ...message.headers, ...ORIGIN },
    });
    const hook = await send(local.stack.webhookUrl, {
      method: 'POST',
      headers: { ...ORIGIN, 'content-type': 'application/json' },
      body: withToken(sampleBody('captured-user.created')),
    });
    const bucket = await send(`${local.stack.endpoints.s3}/page-bucket`, { method: 'PUT', headers: ORIGIN });

    expect([sent.status, hook.status, bucket.status]).toEqual([403, 403, 403]);
    expect(await queued()).toBe(before);
    expect((await send(`${local.stack.endpoints.s3}/page-bucket`, { method: 'HEAD' })).status).toBe(404);
    expect(local.stack.activity.answers[200] ?? 0).toBe(0);
  });

  it('creates no simulator webhook for a page that posts one with the right credentials', async () => {
    const simulator = local.stack.simulator;
    if (simulator === undefined) throw new Error('no simulator');
    const before = simulator.simulator.company(simulator.credentials.account).webhooks().length;
    const created = await send(`${simulator.simulator.apiUrl}/webhooks`, {
      method: 'POST',
      headers: {
        ...ORIGIN,
        'content-type': 'application/json',
        authorization: simulator.simulator.company(simulator.credentials.account).authorization,
      },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/aircall/webhook' }),
    });

    expect(created.status).toBe(403);
    expect(simulator.simulator.company(simulator.credentials.account).webhooks()).toHaveLength(before);
  });

  it('still answers the SDK clients, queue URLs named sqs.<region>.localhost, and the CLI', async () => {
    const byQueueHost = await send(local.stack.endpoints.sqs, {
      ...sqsCall('GetQueueUrl', { QueueName: local.settings.queues.queue }),
      headers: {
        ...sqsCall('GetQueueUrl', {}).headers,
        host: `sqs.us-east-1.localhost:${new URL(local.stack.endpoints.sqs).port}`,
      },
    });
    expect(byQueueHost.status).toBe(200);
    expect(await queued()).toBeGreaterThanOrEqual(0);

    expect(await post(local.stack.webhookUrl, withToken(sampleBody('captured-user.created')))).toBe(200);
    await waitFor(() => getItem(local.documents, local.settings.tables.users, { id: 749132 }), 10_000);
    const io = recordingIo({
      resolveTarget: async () =>
        localTarget({ dynamoEndpoint: local.stack.endpoints.dynamodb, tables: local.settings.tables }),
    });
    expect(await run(['users', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual([expect.objectContaining({ id: 749132 })]);
    expect((await scanTable(local.documents, local.settings.tables.webhooks)).length).toBeGreaterThan(0);
  });
});
