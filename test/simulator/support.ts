// Test helpers for the simulator: an Aircall API caller, and a webhook receiver whose answers a test scripts.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonObject, type JsonObject } from '../../simulator/json.js';
import type { Simulator } from '../../simulator/simulator.js';

export const basic = (apiId: string, apiToken: string): string =>
  `Basic ${Buffer.from(`${apiId}:${apiToken}`).toString('base64')}`;

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body; an empty object for an empty body. */
  readonly json: JsonObject;
  readonly text: string;
}

export const callApi = async (
  simulator: Simulator,
  path: string,
  init: { readonly method?: string; readonly body?: unknown; readonly authorization?: string } = {},
): Promise<ApiAnswer> => {
  const target = path.startsWith('http') ? path : `${simulator.apiUrl}${path}`;
  const headers: Record<string, string> = {};
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(target, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? {} : JSON.parse(text);
  if (!isJsonObject(parsed)) throw new Error(`not a JSON object: ${text}`);
  return { status: response.status, headers: response.headers, json: parsed, text };
};

/** The `webhook` object of an answer, or a failure naming what came instead. */
export const webhookOf = (answer: ApiAnswer): JsonObject => {
  const webhook = answer.json.webhook;
  if (!isJsonObject(webhook)) throw new Error(`no webhook in ${answer.status} ${answer.text}`);
  return webhook;
};

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly resource: string;
  readonly event: string;
  readonly timestamp: number;
  readonly token: unknown;
  readonly data: JsonObject;
  /** `<resource>#<data.id>#<timestamp>#<event>`, the simulator's event key. */
  readonly key: string;
}

/** The status to answer the n-th request (1-based) with, or `hang` to never answer it. */
export type Behaviour = (n: number, received: Received) => number | 'hang';

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export const startReceiver = async (initial: Behaviour = () => 200): Promise<Receiver> => {
  let behaviour = initial;
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!isJsonObject(body) || !isJsonObject(body.data)) throw new Error('not an envelope');
      const entry: Received = {
        headers: request.headers,
        resource: String(body.resource),
        event: String(body.event),
        timestamp: Number(body.timestamp),
        token: body.token,
        data: body.data,
        key: `${String(body.resource)}#${String(body.data.id)}#${String(body.timestamp)}#${String(body.event)}`,
      };
      received.push(entry);
      const answer = behaviour(received.length, entry);
      if (answer === 'hang') return;
      response.writeHead(answer, { 'content-type': 'application/json' }).end('{"message":"ok"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/aircall/webhook`,
    received,
    behave: (next) => {
      behaviour = next;
    },
    close: () =>
      new Promise((resolve, reject) => {
        // Hung requests hold their sockets open; close would wait for them forever.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
