// Builds the events Lambda hands the handlers: API Gateway HTTP API (v2) requests, SQS batches, and a Context.

import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { toSqsRecord } from '../../local/lambda-events.js';

export { lambdaContext, sqsEvent, toSqsRecord } from '../../local/lambda-events.js';

export const WEBHOOK_PATH = '/aircall/webhook';

export interface RequestOptions {
  readonly method?: string;
  /** Send the body base64-encoded, as API Gateway does for bodies it does not treat as text. */
  readonly base64?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** API Gateway's `requestContext.time`, e.g. `04/Mar/2022:10:29:46 +0000`. */
const requestTime = (date: Date): string =>
  `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
  `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;

/** A request to the webhook route as API Gateway HTTP API delivers it, headers as Aircall sends them. */
export const webhookRequest = (
  body: string | undefined,
  options: RequestOptions = {},
): APIGatewayProxyEventV2 => {
  const method = options.method ?? 'POST';
  const now = new Date();
  const userAgent = 'axios/0.21.1';
  const encoded =
    options.base64 === true && body !== undefined ? Buffer.from(body, 'utf8').toString('base64') : body;
  const domainName = 'abc123defg.execute-api.us-east-1.amazonaws.com';
  return {
    version: '2.0',
    routeKey: `${method} ${WEBHOOK_PATH}`,
    rawPath: WEBHOOK_PATH,
    rawQueryString: '',
    headers: {
      accept: 'application/json, text/plain, */*',
      'aircall-origin': 'webhooks',
      'content-length': String(body === undefined ? 0 : Buffer.byteLength(body, 'utf8')),
      'content-type': 'application/json',
      host: domainName,
      'user-agent': userAgent,
      'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      'x-forwarded-for': '52.48.0.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...options.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      domainName,
      domainPrefix: 'abc123defg',
      http: { method, path: WEBHOOK_PATH, protocol: 'HTTP/1.1', sourceIp: '52.48.0.10', userAgent },
      requestId: randomUUID(),
      routeKey: `${method} ${WEBHOOK_PATH}`,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(encoded === undefined ? {} : { body: encoded }),
    isBase64Encoded: options.base64 === true,
  };
};

/** Receives every visible message, in batches of ten, with all system and message attributes. */
export const receiveAll = async (client: SQSClient, queueUrl: string): Promise<Message[]> => {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
};

/** Receives and deletes every visible message: what a consumer that succeeded leaves behind. */
export const drainQueue = async (client: SQSClient, queueUrl: string): Promise<Message[]> => {
  const messages = await receiveAll(client, queueUrl);
  for (let i = 0; i < messages.length; i += 10) {
    const entries = messages
      .slice(i, i + 10)
      .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle }));
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
  return messages;
};

/** Receives every visible message and turns each into an SQS record. */
export const receiveRecords = async (
  client: SQSClient,
  queueUrl: string,
  queueArn: string,
): Promise<SQSRecord[]> =>
  (await receiveAll(client, queueUrl)).map((message) => toSqsRecord(message, queueArn));
