// Downloads one media link that arrived in a webhook: an untrusted URL, so every hop is checked before it connects.

import { lookup as dnsLookup } from 'node:dns/promises';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { type Readable, Transform } from 'node:stream';
import { type AllowList, findAllowingOrigin } from './allowed-origins.js';
import {
  ArchiveError,
  MediaForbiddenError,
  MediaLinkExpiredError,
  MediaLinkRefusedError,
  MediaNotFoundError,
  MediaTimeoutError,
  MediaTooLargeError,
  MediaUnavailableError,
  TooManyRedirectsError,
  UnexpectedMediaTypeError,
} from './errors.js';
import { isExpired } from './media-link.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has; the default is dns.lookup with `all: true`. */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface FetchMediaOptions {
  readonly allowList: AllowList;
  /** Largest body accepted, in bytes, checked against content-length and while streaming. */
  readonly maxBytes: number;
  /** @default dns.lookup with `all: true` */
  readonly lookup?: ResolveHost;
  /** @default 3 */
  readonly maxRedirects?: number;
  /** Until the connection (and its TLS handshake) is up. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** From the call until the last byte of the body. @default 60000 */
  readonly totalTimeoutMs?: number;
  /** Accepted media types; `type/*` matches a whole type. @default ['audio/*', 'application/octet-stream'] */
  readonly acceptedContentTypes?: readonly string[];
  /** Tells an expired link's 403 from another 403. @default Date.now */
  readonly now?: () => number;
}

export interface FetchedMedia {
  /** The body, limited to maxBytes; it errors with a named ArchiveError if a limit or timeout strikes. */
  readonly body: Readable;
  readonly status: number;
  readonly contentType: string;
  readonly contentLength: number | undefined;
  /** The URL the body came from, after redirects. */
  readonly url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const REFUSED_RANGES: ReadonlyArray<readonly [string, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['shared (carrier-grade NAT)', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  // An IPv4-mapped address can carry any of the ranges above past an IPv6-only check.
  ['IPv4-mapped', '::ffff:0:0', 96, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['private (unique local)', 'fc00::', 7, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];

const RANGES = REFUSED_RANGES.map(([category, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { category, list, family };
});

/** Why an address may not be reached from an origin matched by a pattern, or undefined when it may. */
export function refusedAddressCategory(address: string): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return RANGES.find((range) => range.family === family && range.list.check(address, family))?.category;
}

const defaultLookup: ResolveHost = async (hostname) => {
  const addresses = await dnsLookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

function acceptsType(contentType: string, accepted: readonly string[]): boolean {
  return accepted.some((pattern) => {
    const wanted = pattern.toLowerCase();
    return wanted.endsWith('/*') ? contentType.startsWith(wanted.slice(0, -1)) : contentType === wanted;
  });
}

/** Checks one URL against the allow-list and resolves it to the one address it will connect to. */
async function checkHop(url: URL, options: FetchMediaOptions, lookup: ResolveHost): Promise<ResolvedAddress> {
  const origin = findAllowingOrigin(url, options.allowList);
  if (!origin) throw new MediaLinkRefusedError(`origin ${url.origin} is not on the allow-list`);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(hostname);
  let addresses: readonly ResolvedAddress[];
  if (literal !== 0) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await lookup(hostname);
    } catch (error) {
      throw new MediaUnavailableError(`could not resolve ${hostname}`, { cause: error });
    }
  }
  const first = addresses[0];
  if (!first) throw new MediaUnavailableError(`${hostname} resolved to no address`);
  // Only an origin an operator listed by its exact host (a test server, a VPC endpoint) may reach an internal address.
  if (origin.kind !== 'exact' || !origin.mayBeInternal) {
    for (const { address } of addresses) {
      const category = refusedAddressCategory(address);
      if (category)
        throw new MediaLinkRefusedError(`${hostname} resolves to a ${category} address (${address})`);
    }
  }
  return first;
}

/** A lookup for `request` that answers only the checked address, so no second resolution can rebind the host. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}

interface Hop {
  readonly request: ClientRequest;
  readonly response: IncomingMessage;
}

function send(
  url: URL,
  pinned: ResolvedAddress,
  connectTimeoutMs: number,
  onRequest: (request: ClientRequest) => void,
): Promise<Hop> {
  const isHttps = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const requestOptions: RequestOptions & { servername?: string } = {
    method: 'GET',
    protocol: url.protocol,
    hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    lookup: pinnedLookup(pinned),
    // A fresh agent per hop: no pooled socket from another hop, and nothing shared between downloads.
    agent: false,
    // Only these headers, on every hop: no Authorization, no cookies, and no compression to hide the real size.
    headers: { accept: 'audio/*, application/octet-stream', 'accept-encoding': 'identity' },
  };
  if (isHttps && isIP(hostname) === 0) requestOptions.servername = hostname;

  return new Promise<Hop>((resolve, reject) => {
    const request = (isHttps ? httpsRequest : httpRequest)(requestOptions);
    onRequest(request);
    // agent: false means the socket is always a new one, still connecting.
    request.once('socket', (socket) => {
      const timer = setTimeout(
        () =>
          request.destroy(
            new MediaTimeoutError('connect', `no connection to ${url.host} within ${connectTimeoutMs} ms`),
          ),
        connectTimeoutMs,
      );
      socket.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    request.once('response', (response) => resolve({ request, response }));
    // `on`, not `once`: an error after the response (a reset mid-body) must not go unheard and crash the process.
    request.on('error', (error) =>
      reject(
        error instanceof ArchiveError
          ? error
          : new MediaUnavailableError(`request to ${url.host} failed`, { cause: error }),
      ),
    );
    request.end();
  });
}

function statusError(status: number, url: URL, now: number): ArchiveError {
  if (status === 403) {
    return isExpired(url, now)
      ? new MediaLinkExpiredError(`403 from ${url.host}: the link has expired`)
      : new MediaForbiddenError(`403 from ${url.host}`);
  }
  if (status === 404) return new MediaNotFoundError(`404 from ${url.host}`);
  return new MediaUnavailableError(`status ${status} from ${url.host}`, { status });
}

/** A pass-through that fails with MediaTooLargeError once more than `maxBytes` have gone by. */
function sizeLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) callback(new MediaTooLargeError(`body exceeds ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
}

/**
 * GETs `link`, following at most `maxRedirects` redirects; every hop must be on the allow-list and resolve to an
 * address it may reach. Resolves once a 2xx with an accepted type arrives; rejects with a named ArchiveError.
 */
export async function fetchMedia(link: string | URL, options: FetchMediaOptions): Promise<FetchedMedia> {
  const lookup = options.lookup ?? defaultLookup;
  const maxRedirects = options.maxRedirects ?? 3;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 60000;
  const accepted = options.acceptedContentTypes ?? ['audio/*', 'application/octet-stream'];
  const now = options.now ?? Date.now;

  let url: URL;
  try {
    url = new URL(link);
  } catch (error) {
    throw new MediaLinkRefusedError('the link is not a URL', { cause: error });
  }

  let current: ClientRequest | undefined;
  let body: Transform | undefined;
  let timedOut: MediaTimeoutError | undefined;
  let rejectOnTimeout: (error: MediaTimeoutError) => void = () => {};
  // Races each wait before the response, so a lookup that never answers cannot outlive the total timeout either.
  const timeout = new Promise<never>((_resolve, reject) => {
    rejectOnTimeout = reject;
  });
  timeout.catch(() => {});
  const timer = setTimeout(() => {
    timedOut = new MediaTimeoutError('total', `download not finished within ${totalTimeoutMs} ms`);
    rejectOnTimeout(timedOut);
    if (body) body.destroy(timedOut);
    current?.destroy(timedOut);
  }, totalTimeoutMs);

  try {
    for (let redirects = 0; ; redirects += 1) {
      const pinned = await Promise.race([checkHop(url, options, lookup), timeout]);
      const { request, response } = await Promise.race([
        send(url, pinned, connectTimeoutMs, (request) => {
          current = request;
        }),
        timeout,
      ]);
      const status = response.statusCode ?? 0;

      if (REDIRECTS.has(status)) {
        response.resume();
        request.destroy();
        const location = response.headers.location;
        if (!location)
          throw new MediaUnavailableError(`${status} from ${url.host} without a Location`, { status });
        if (redirects >= maxRedirects) throw new TooManyRedirectsError(`more than ${maxRedirects} redirects`);
        try {
          url = new URL(location, url);
        } catch (error) {
          throw new MediaLinkRefusedError(`${status} from ${url.host} to an invalid Location`, {
            cause: error,
          });
        }
        continue;
      }

      if (status < 200 || status > 299) {
        request.destroy();
        throw statusError(status, url, now());
      }
      const contentType = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!acceptsType(contentType, accepted)) {
        request.destroy();
        throw new UnexpectedMediaTypeError(`content type ${JSON.stringify(contentType)} is not accepted`);
      }
      const lengthHeader = response.headers['content-length'];
      const contentLength =
        lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      if (contentLength !== undefined && contentLength > options.maxBytes) {
        request.destroy();
        throw new MediaTooLargeError(`content-length ${contentLength} exceeds ${options.maxBytes} bytes`);
      }

      const limited = sizeLimit(options.maxBytes);
      body = limited;
      response.on('error', (error) =>
        limited.destroy(
          error instanceof ArchiveError
            ? error
            : (timedOut ??
                new MediaUnavailableError(`download from ${url.host} broke off`, { cause: error })),
        ),
      );
      limited.once('close', () => {
        clearTimeout(timer);
        request.destroy();
      });
      response.pipe(limited);
      return { body: limited as Readable, status, contentType, contentLength, url: url.href };
    }
  } catch (error) {
    clearTimeout(timer);
    current?.destroy();
    throw error;
  }
}
