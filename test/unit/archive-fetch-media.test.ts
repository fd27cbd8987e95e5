import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AllowList,
  DEFAULT_ALLOWED_ORIGINS,
  parseAllowedOrigins,
} from '../../lambdas/archive/allowed-origins.js';
import {
  MediaForbiddenError,
  MediaLinkExpiredError,
  MediaLinkRefusedError,
  MediaNotFoundError,
  MediaTimeoutError,
  MediaTooLargeError,
  MediaUnavailableError,
  TooManyRedirectsError,
  UnexpectedMediaTypeError,
} from '../../lambdas/archive/errors.js';
import { type FetchMediaOptions, fetchMedia, type ResolveHost } from '../../lambdas/archive/fetch-media.js';

interface TestServer {
  readonly origin: string;
  readonly port: number;
  readonly requests: IncomingHttpHeaders[];
  connections: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(respond: (response: ServerResponse, path: string) => void): Promise<TestServer> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    respond(response, request.url ?? '');
  });
  const state: TestServer = {
    origin: '',
    port: 0,
    requests,
    connections: 0,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  server.on('connection', () => {
    state.connections += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  Object.assign(state, { origin: `http://127.0.0.1:${port}`, port });
  servers.push(state);
  return state;
}

/** A TCP server that accepts connections and never says a word. */
async function startSilentServer(): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  servers.push({
    origin: '',
    port,
    requests: [],
    connections: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  });
  return { port, sockets };
}

const resolvingTo =
  (...addresses: string[]): ResolveHost =>
  async () =>
    addresses.map((address) => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }));

const audio = (body: Buffer | string) => (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': Buffer.byteLength(body) });
  response.end(body);
};

function options(allowList: AllowList, overrides: Partial<FetchMediaOptions> = {}): FetchMediaOptions {
  return { allowList, maxBytes: 1024 * 1024, ...overrides };
}

let connect: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  connect = vi.spyOn(net.Socket.prototype, 'connect');
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('fetchMedia: refused links make no request at all', () => {
  it('refuses http:// on an origin listed only with https', async () => {
    const server = await startServer(audio('x'));
    const list = parseAllowedOrigins(`https://127.0.0.1:${server.port}`);
    await expect(fetchMedia(`${server.origin}/r.mp3`, options(list))).rejects.toBeInstanceOf(
      MediaLinkRefusedError,
    );
    expect(server.connections).toBe(0);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a host that is not on the list, without resolving it', async () => {
    const lookup = vi.fn(resolvingTo('203.0.113.7'));
    await expect(
      fetchMedia(
        'https://attacker-bucket.s3.eu-west-1.amazonaws.com/r.mp3',
        options(DEFAULT_ALLOWED_ORIGINS, { lookup }),
      ),
    ).rejects.toBeInstanceOf(MediaLinkRefusedError);
    expect(lookup).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a link that is not a URL', async () => {
    await expect(fetchMedia('not a url', options(DEFAULT_ALLOWED_ORIGINS))).rejects.toBeInstanceOf(
      MediaLinkRefusedError,
    );
    expect(connect).not.toHaveBeenCalled();
  });

  it.each([
    ['loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['link-local (instance metadata)', '169.254.169.254'],
    ['private 10/8', '10.0.0.5'],
    ['private 172.16/12', '172.20.1.1'],
    ['private 192.168/16', '192.168.1.1'],
    ['IPv6 unique local', 'fd00::1'],
    ['IPv6 link-local', 'fe80::1'],
    ['unspecified', '0.0.0.0'],
    ['multicast', '239.1.2.3'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ])('refuses an allowed host that resolves to a %s address (%s)', async (_what, address) => {
    const lookup = vi.fn(resolvingTo(address));
    const link = 'https://production-eu-3-web.s3.eu-west-1.amazonaws.com/r.mp3';
    await expect(fetchMedia(link, options(DEFAULT_ALLOWED_ORIGINS, { lookup }))).rejects.toBeInstanceOf(
      MediaLinkRefusedError,
    );
    expect(lookup).toHaveBeenCalledWith('production-eu-3-web.s3.eu-west-1.amazonaws.com');
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses the default media host when its addresses include one internal address among public ones', async () => {
    const lookup = resolvingTo('203.0.113.7', '10.0.0.5');
    await expect(
      fetchMedia('https://media-web.aircall.io/g.mp3', options(DEFAULT_ALLOWED_ORIGINS, { lookup })),
    ).rejects.toBeInstanceOf(MediaLinkRefusedError);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a wildcard-allowed host resolving to the loopback server, which sees no connection', async () => {
    const server = await startServer(audio('secret'));
    const list = parseAllowedOrigins(`http://*.media.test:${server.port}`);
    await expect(
      fetchMedia(
        `http://a.media.test:${server.port}/r.mp3`,
        options(list, { lookup: resolvingTo('127.0.0.1') }),
      ),
    ).rejects.toBeInstanceOf(MediaLinkRefusedError);
    expect(server.connections).toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a redirect to an origin off the list, which sees no connection', async () => {
    const elsewhere = await startServer(audio('elsewhere'));
    const server = await startServer((response) => {
      response.writeHead(302, { location: `${elsewhere.origin}/r.mp3` });
      response.end();
    });
    const list = parseAllowedOrigins(server.origin);
    await expect(fetchMedia(`${server.origin}/r.mp3`, options(list))).rejects.toBeInstanceOf(
      MediaLinkRefusedError,
    );
    expect(server.requests).toHaveLength(1);
    expect(elsewhere.connections).toBe(0);
  });

  it('refuses a redirect from https to http on the same host', async () => {
    const server = await startServer((response) => {
      response.writeHead(301, { location: 'http://media-web.aircall.io/g.mp3' });
      response.end();
    });
    // The test server stands in for media-web.aircall.io's https origin, listed exactly so it may be loopback.
    const list = parseAllowedOrigins(server.origin);
    await expect(fetchMedia(`${server.origin}/g.mp3`, options(list))).rejects.toThrow(
      /not on the allow-list/,
    );
    expect(server.requests).toHaveLength(1);
  });
});

describe('fetchMedia: allowed links', () => {
  it('streams the bytes from an origin listed exactly with http, sending no credentials', async () => {
    const bytes = Buffer.from('ID3 fake mp3 bytes');
    const server = await startServer(audio(bytes));
    const result = await fetchMedia(
      `${server.origin}/r.mp3?X-Amz-Signature=abc`,
      options(parseAllowedOrigins(server.origin)),
    );
    expect(result).toMatchObject({ status: 200, contentType: 'audio/mpeg', contentLength: bytes.length });
    expect(await buffer(result.body)).toEqual(bytes);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).not.toHaveProperty('authorization');
    expect(server.requests[0]).not.toHaveProperty('cookie');
    // The spy the refusal tests rely on does see a real connection.
    expect(connect).toHaveBeenCalled();
  });

  it('connects to the address it checked, whatever the host name', async () => {
    const server = await startServer(audio('pinned'));
    const list = parseAllowedOrigins(`http://media.test:${server.port}`);
    const lookup = vi.fn(resolvingTo('127.0.0.1'));
    const result = await fetchMedia(`http://media.test:${server.port}/r.mp3`, options(list, { lookup }));
    expect((await buffer(result.body)).toString()).toBe('pinned');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('follows a redirect within the list', async () => {
    const target = await startServer(audio('moved'));
    const server = await startServer((response) => {
      response.writeHead(307, { location: `${target.origin}/final.mp3` });
      response.end();
    });
    const list = parseAllowedOrigins(`${server.origin},${target.origin}`);
    const result = await fetchMedia(`${server.origin}/r.mp3`, options(list));
    expect(result.url).toBe(`${target.origin}/final.mp3`);
    expect((await buffer(result.body)).toString()).toBe('moved');
  });

  it('gives up after maxRedirects redirects', async () => {
    const server = await startServer((response, path) => {
      response.writeHead(302, { location: `${path}x` });
      response.end();
    });
    const list = parseAllowedOrigins(server.origin);
    await expect(fetchMedia(`${server.origin}/r`, options(list, { maxRedirects: 2 }))).rejects.toBeInstanceOf(
      TooManyRedirectsError,
    );
    expect(server.requests).toHaveLength(3);
  });

  it('accepts application/octet-stream and, when configured, other types', async () => {
    const server = await startServer((response) => {
      response.writeHead(200, { 'content-type': 'video/mp4' });
      response.end('v');
    });
    const list = parseAllowedOrigins(server.origin);
    await expect(fetchMedia(`${server.origin}/v`, options(list))).rejects.toBeInstanceOf(
      UnexpectedMediaTypeError,
    );
    const result = await fetchMedia(
      `${server.origin}/v`,
      options(list, { acceptedContentTypes: ['video/*'] }),
    );
    expect((await buffer(result.body)).toString()).toBe('v');
  });

  it('refuses a body that is not audio, such as an HTML error page', async () => {
    const server = await startServer((response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<html>');
    });
    await expect(
      fetchMedia(`${server.origin}/r.mp3`, options(parseAllowedOrigins(server.origin))),
    ).rejects.toBeInstanceOf(UnexpectedMediaTypeError);
  });
});

describe('fetchMedia: size limit', () => {
  it('refuses a content-length above the limit before reading the body', async () => {
    const server = await startServer(audio(Buffer.alloc(2048)));
    await expect(
      fetchMedia(`${server.origin}/r.mp3`, options(parseAllowedOrigins(server.origin), { maxBytes: 1024 })),
    ).rejects.toBeInstanceOf(MediaTooLargeError);
  });

  it('aborts mid-stream when a body without content-length grows past the limit', async () => {
    const server = await startServer((response) => {
      response.writeHead(200, { 'content-type': 'audio/mpeg' });
      for (let i = 0; i < 8; i += 1) response.write(Buffer.alloc(512));
      response.end();
    });
    const result = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin), { maxBytes: 1024 }),
    );
    expect(result.contentLength).toBeUndefined();
    await expect(buffer(result.body)).rejects.toBeInstanceOf(MediaTooLargeError);
  });

  it('aborts mid-stream when a close-delimited body past the limit follows no content-length', async () => {
    const silent = net.createServer((socket) => {
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\nconnection: close\r\n\r\n');
        socket.end(Buffer.alloc(4096));
      });
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    try {
      const origin = `http://127.0.0.1:${port}`;
      const result = await fetchMedia(
        `${origin}/r.mp3`,
        options(parseAllowedOrigins(origin), { maxBytes: 1000 }),
      );
      await expect(buffer(result.body)).rejects.toBeInstanceOf(MediaTooLargeError);
    } finally {
      silent.close();
    }
  });

  it('streams a body exactly at the limit', async () => {
    const server = await startServer(audio(Buffer.alloc(1024, 1)));
    const result = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin), { maxBytes: 1024 }),
    );
    expect((await buffer(result.body)).length).toBe(1024);
  });
});

describe('fetchMedia: timeouts', () => {
  it('fails with the total timeout when the server accepts the request and never answers', async () => {
    const server = await startServer(() => {});
    const error = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin), { totalTimeoutMs: 50 }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaTimeoutError);
    expect(error).toMatchObject({ phase: 'total', retriable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('fails the body with the total timeout when the server stops sending mid-stream', async () => {
    const server = await startServer((response) => {
      response.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': 100 });
      response.write(Buffer.alloc(10));
    });
    const result = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin), { totalTimeoutMs: 100 }),
    );
    await expect(buffer(result.body)).rejects.toMatchObject({ name: 'MediaTimeoutError', phase: 'total' });
  });

  it('fails with the connect timeout when the TLS handshake never completes', async () => {
    const { port, sockets } = await startSilentServer();
    const origin = `https://127.0.0.1:${port}`;
    const error = await fetchMedia(
      `${origin}/r.mp3`,
      options(parseAllowedOrigins(origin), { connectTimeoutMs: 50, totalTimeoutMs: 10000 }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaTimeoutError);
    expect(error).toMatchObject({ phase: 'connect' });
    expect(sockets.length).toBe(1);
  });

  it('fails with the total timeout when the lookup never answers', async () => {
    const lookup: ResolveHost = () => new Promise(() => {});
    await expect(
      fetchMedia(
        'https://media-web.aircall.io/g.mp3',
        options(DEFAULT_ALLOWED_ORIGINS, { lookup, totalTimeoutMs: 20 }),
      ),
    ).rejects.toMatchObject({ name: 'MediaTimeoutError', phase: 'total' });
    expect(connect).not.toHaveBeenCalled();
  });
});

describe('fetchMedia: status', () => {
  const statusServer = (status: number) =>
    startServer((response) => {
      response.writeHead(status, { 'content-type': 'application/xml' });
      response.end('<Error/>');
    });

  it('classifies a 403 on a link past its X-Amz-Expires as an expired link', async () => {
    const server = await statusServer(403);
    const link = `${server.origin}/r.mp3?X-Amz-Date=20240131T235500Z&X-Amz-Expires=600`;
    const error = await fetchMedia(
      link,
      options(parseAllowedOrigins(server.origin), { now: () => Date.parse('2024-02-01T01:00:00Z') }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaLinkExpiredError);
    expect(error).toMatchObject({ retriable: false });
  });

  it('classifies a 403 on a link still in date as forbidden, not expired', async () => {
    const server = await statusServer(403);
    const link = `${server.origin}/r.mp3?X-Amz-Date=20240131T235500Z&X-Amz-Expires=600`;
    const error = await fetchMedia(
      link,
      options(parseAllowedOrigins(server.origin), { now: () => Date.parse('2024-01-31T23:56:00Z') }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaForbiddenError);
    expect(error).not.toBeInstanceOf(MediaLinkExpiredError);
  });

  it('classifies a 404 as not found, not retriable with the same link', async () => {
    const server = await statusServer(404);
    const error = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin)),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaNotFoundError);
    expect(error).toMatchObject({ retriable: false });
  });

  it.each([500, 503, 429])('classifies a %i as retriable', async (status) => {
    const server = await statusServer(status);
    const error = await fetchMedia(
      `${server.origin}/r.mp3`,
      options(parseAllowedOrigins(server.origin)),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaUnavailableError);
    expect(error).toMatchObject({ retriable: true, status });
  });

  it('classifies a refused connection as retriable', async () => {
    const server = await startServer(audio('x'));
    const origin = server.origin;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const error = await fetchMedia(`${origin}/r.mp3`, options(parseAllowedOrigins(origin))).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MediaUnavailableError);
    expect(error).toMatchObject({ retriable: true });
  });
});
