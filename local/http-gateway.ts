// A local stand-in for the API Gateway HTTP API: one POST route, API Gateway's limits, payload format 2.0 events,
// and no answer to a web page in the developer's browser.

import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LOOPBACK, urlFor } from './clients.js';
import { type HostPolicy, refusal } from './request-guard.js';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface GatewayOptions {
  readonly port: number;
  /** Interface to listen on; loopback unless told otherwise. */
  readonly host?: string;
  /** Host names answered besides loopback and `host`, e.g. a tunnel's in front of the endpoint. */
  readonly extraHosts?: readonly string[];
  /** Path of the only route, e.g. `/aircall/webhook`. */
  readonly routePath: string;
  readonly handler: HttpApiHandler;
  /** Called after each answer, for activity counters. */
  readonly onResponse?: (status: number) => void;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and resolves once every request in hand has been answered. */
  stop(): Promise<void>;
}

// API Gateway HTTP API limits: a 10 MB payload and a 30 s integration timeout.
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;
// How long a stop waits for requests in hand before it closes their connections.
const STOP_GRACE_MS = 5_000;

// Content types API Gateway passes as text; anything else reaches the function base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

class PayloadTooLarge extends Error {}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new PayloadTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

const headersOf = (request: IncomingMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
};

/** The event API Gateway would hand the function for this request. */
export const toHttpApiEvent = (
  request: IncomingMessage,
  body: Buffer,
  routePath: string,
): APIGatewayProxyEventV2 => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const headers = headersOf(request);
  // Bytes that are not UTF-8 cannot be passed as text without being altered: they go base64, for ingest to refuse.
  const asText = body.length === 0 || (TEXT_TYPES.test(headers['content-type'] ?? '') && isUtf8(body));
  const now = new Date();
  const routeKey = `POST ${routePath}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search === '' ? {} : { queryStringParameters: Object.fromEntries(url.searchParams) }),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length === 0 ? {} : { body: body.toString(asText ? 'utf8' : 'base64') }),
    isBase64Encoded: !asText,
  };
};

const send = (response: ServerResponse, result: APIGatewayProxyStructuredResultV2): number => {
  const status = result.statusCode ?? 200;
  const body =
    result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  response.writeHead(status, {
    'content-type': 'application/json',
    ...result.headers,
    'content-length': body.length,
  });
  response.end(body);
  return status;
};

const message = (statusCode: number, text: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  body: JSON.stringify({ message: text }),
});

const withTimeout = async <T>(work: Promise<T>, ms: number): Promise<T | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

const answer = async (
  request: IncomingMessage,
  options: GatewayOptions,
): Promise<APIGatewayProxyStructuredResultV2> => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  // Like the deployed API, only the one route reaches the function; API Gateway answers everything else.
  if (request.method !== 'POST' || path !== options.routePath) {
    request.resume();
    return message(404, 'Not Found');
  }
  let body: Buffer;
  try {
    body = await readBody(request);
  } catch (error) {
    if (error instanceof PayloadTooLarge) return message(413, 'Request Entity Too Large');
    throw error;
  }
  try {
    const result = await withTimeout(
      options.handler(toHttpApiEvent(request, body, options.routePath)),
      INTEGRATION_TIMEOUT_MS,
    );
    return result ?? message(503, 'Service Unavailable');
  } catch {
    // API Gateway turns a function error into a bare 500; the function's own log holds the detail.
    return message(500, 'Internal Server Error');
  }
};

export const startGateway = async (options: GatewayOptions): Promise<RunningGateway> => {
  const host = options.host ?? LOOPBACK;
  const policy: HostPolicy = { bindAddress: host, extraHosts: options.extraHosts ?? [] };
  let closing = false;
  const server = createServer((request, response) => {
    // Once stopping, each answer closes its connection, so a client that keeps sending cannot hold the stop open.
    if (closing) response.shouldKeepAlive = false;
    // Refused before anything is read, and counted like any other answer.
    if (refusal(request.headers, policy) !== undefined) {
      request.resume();
      options.onResponse?.(send(response, message(403, 'Forbidden')));
      return;
    }
    answer(request, options)
      .then((result) => options.onResponse?.(send(response, result)))
      .catch(() => options.onResponse?.(send(response, message(500, 'Internal Server Error'))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: urlFor(host, port),
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        // After the grace, connections still open are cut: a request in hand that long is past any answer.
        const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
        server.close((error) => {
          clearTimeout(cut);
          if (error) reject(error);
          else resolve();
        });
        // Idle keep-alive sockets would hold close() open; requests in hand still finish.
        server.closeIdleConnections();
      }),
  };
};
