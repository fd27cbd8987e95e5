// A scriptable stand-in for api.aircall.io on a free local port: each request gets the next scripted reply and is recorded.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** `json` is serialised, `text` sent as is; `hang` never answers, to exercise timeouts. */
export type ScriptedReply =
  | {
      readonly status: number;
      readonly json?: unknown;
      readonly text?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly hang: true };

export interface FakeAircall {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The origin with `/v1`, as the client's baseUrl. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Queues replies, answered in order. A request with none left gets a 418 naming it, so a test fails loudly. */
  script(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve, reject) => {
    // Hung requests hold their sockets open; close would wait for them forever.
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });

export const startFakeAircall = async (): Promise<FakeAircall> => {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const reply = queue.shift() ?? {
        status: 418,
        json: { error: `fake-aircall: no reply scripted for ${recorded.method} ${recorded.path}` },
      };
      if ('hang' in reply) return;
      const body = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
      response.writeHead(reply.status, {
        ...(reply.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...reply.headers,
      });
      response.end(body);
    });
  });
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseUrl: `${origin}/v1`,
    requests,
    script: (...replies) => {
      queue.push(...replies);
    },
    close: () => closeServer(server),
  };
};

/** A base URL on which nothing listens: the port was just freed, so a connection is refused. */
export const refusingBaseUrl = async (): Promise<string> => {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return `http://127.0.0.1:${port}/v1`;
};
