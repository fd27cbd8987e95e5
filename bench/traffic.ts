// What the bench sends: the simulator's generated Aircall traffic, as delivered and as API Gateway hands it over.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { deliveryBody, type GeneratedEvent } from '../simulator/envelope.js';
import { createTrafficGenerator } from '../simulator/traffic.js';

export const BENCH_ACCOUNT = 'bench';

/** Call lifecycles and agent events of one simulated company, every event distinct; `company` keeps ids apart. */
export const generatedEvents = (count: number, company: number): GeneratedEvent[] => {
  const generator = createTrafficGenerator({
    account: BENCH_ACCOUNT,
    seed: 42 + company,
    companyIndex: company,
    startTime: 1_760_000_000,
    agents: 8,
  });
  const events: GeneratedEvent[] = [];
  while (events.length < count) events.push(...generator.generate(10));
  return events.slice(0, count);
};

/** The bodies Aircall posts, with the webhook's token. */
export const deliveries = (events: readonly GeneratedEvent[], token: string): string[] =>
  events.map((event) => deliveryBody(event, token));

/** The message ingest enqueues for a delivery: the same body without its token. */
export const queuedBody = (event: GeneratedEvent): string =>
  JSON.stringify({
    resource: event.resource,
    event: event.event,
    timestamp: event.timestamp,
    data: event.data,
  });

/** The event API Gateway's HTTP API hands the function for a webhook POST. */
export const httpApiEvent = (body: string, requestId: string): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: 'POST /aircall/webhook',
  rawPath: '/aircall/webhook',
  rawQueryString: '',
  headers: { 'content-type': 'application/json', 'user-agent': 'Faraday v0.17.6' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'bench',
    domainName: 'bench.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'bench',
    http: {
      method: 'POST',
      path: '/aircall/webhook',
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.1',
      userAgent: 'Faraday v0.17.6',
    },
    requestId,
    routeKey: 'POST /aircall/webhook',
    stage: '$default',
    time: '01/Dec/2026:00:00:00 +0000',
    timeEpoch: 1_796_083_200_000,
  },
  body,
  isBase64Encoded: false,
});
