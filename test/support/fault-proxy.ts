// An HTTP proxy in front of one upstream that injects faults on demand: refuse, answer a chosen status, or hang.

import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a fault rule sees of a request: enough to tell S3 from SQS, or one API path from another. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** 0 for the first request the proxy saw, then 1, 2, ... */
  readonly seq: number;
}

/**
 * What a faulty request gets instead of the upstream's answer: its socket destroyed (`reset`), no answer at all
 * (`hang`), or a status with optional headers and body.
 */
export type FaultAnswer =
  | 'reset'
  | 'hang'
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string };

export interface FaultCounts {
  /** Every request that reached the proxy. */
  seen: number;
  /** Passed on to the upstream. */
  forwarded: number;
  /** Answered by a fault: a status or a reset. */
  refused: number;
  /** Left without an answer. */
  hung: number;
  /** Injected answers by status; resets under 0. */
  readonly injected: Record<number, number>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, to use in place of the upstream's origin. */
  readonly url: string;
  readonly counts: FaultCounts;
  /** Refuses every request: sockets destroyed by default, or the given answer (a 503, say). */
  down(answer?: FaultAnswer): void;
  /**
   * Answers the requests `predicate` picks with `answer` (or what `answer` returns for that request; undefined
   * lets it through), and forwards the rest.
   */
  fail(
    predicate: (request: ProxiedRequest) => boolean,
    answer: FaultAnswer | ((request: ProxiedRequest) => FaultAnswer | undefined),
  ): void;
  /** Answers nothing to the requests `predicate` picks (every request by default) until healed. */
  hang(predicate?: (request: ProxiedRequest) => boolean): void;
  /** Forwards everything again; requests left hanging are cut. */
  heal(): void;
  close(): Promise<void>;
}

type Rule = (request: ProxiedRequest) => FaultAnswer | undefined;

/** S3 in path style (`/<bucket>/...`) on the server that also speaks SQS: SQS requests are `POST /` with a target. */
export const isS3Request = (request: ProxiedRequest): boolean =>
  request.headers['x-amz-target'] === undefined && request.path !== '/' && !request.path.startsWith('/?');

export interface FaultProxyOptions {
  /**
   * Passes the client's `Host` (the proxy's own address) on unchanged, for an upstream that builds links from it, as
   * the simulator's paging does: the links then lead back through the proxy. @default false, the upstream's host
   */
  readonly preserveHost?: boolean;
}

/** Starts a proxy on 127.0.0.1, on a port the system picks, in front of `upstream` (an `http://host:port` origin). */
export const startFaultProxy = async (
  upstream: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> => {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const counts: FaultCounts = { seen: 0, forwarded: 0, refused: 0, hung: 0, injected: {} };
  const sockets = new Set<Socket>();
  const hanging = new Set<Socket>();
  let rule: Rule | undefined;
  let seq = 0;

  const server = createServer((req, res) => {
    counts.seen += 1;
    const seen: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      seq: seq++,
    };
    const answer = rule?.(seen);
    if (answer === 'hang') {
      counts.hung += 1;
      hanging.add(req.socket);
      // The body is read and dropped, so the client is left waiting on the answer alone.
      req.resume();
      return;
    }
    if (answer === 'reset') {
      counts.refused += 1;
      counts.injected[0] = (counts.injected[0] ?? 0) + 1;
      req.socket.destroy();
      return;
    }
    if (answer !== undefined) {
      counts.refused += 1;
      counts.injected[answer.status] = (counts.injected[answer.status] ?? 0) + 1;
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '{"message":"injected fault"}');
      return;
    }
    counts.forwarded += 1;
    const outgoing = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: options.preserveHost === true ? req.headers : { ...req.headers, host: target.host },
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    outgoing.on('error', () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    req.pipe(outgoing);
    req.on('error', () => outgoing.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      hanging.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const cutHanging = (): void => {
    for (const socket of hanging) socket.destroy();
    hanging.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    down: (answer = 'reset') => {
      rule = () => answer;
    },
    fail: (predicate, answer) => {
      rule = (request) =>
        predicate(request) ? (typeof answer === 'function' ? answer(request) : answer) : undefined;
    },
    hang: (predicate = () => true) => {
      rule = (request) => (predicate(request) ? 'hang' : undefined);
    },
    heal: () => {
      rule = undefined;
      cutHanging();
    },
    close: async () => {
      rule = undefined;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
};
