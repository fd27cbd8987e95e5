// Keeps a web page in the developer's browser away from the local servers: one check of a request's Origin and
// Host headers that the webhook endpoint, the embedded DynamoDB, SQS and S3, and the simulator all apply.

import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');
// IPv4-mapped: `[::ffff:127.0.0.1]` reaches the IPv4 loopback too.
LOOPBACK_ADDRESSES.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** A host name as it compares: lower case, without IPv6 brackets or the trailing dot of an absolute name. */
const normalized = (hostname: string): string =>
  hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

/** The host name of a Host header (`name:port`, `[v6]:port`), or undefined when it is not one. */
export const hostnameOf = (host: string | undefined): string | undefined => {
  if (host === undefined || host === '') return undefined;
  try {
    const { hostname, username, password, pathname, search } = new URL(`http://${host}`);
    // Anything beyond host and port makes it no Host header at all.
    if (username !== '' || password !== '' || pathname !== '/' || search !== '') return undefined;
    return normalized(hostname);
  } catch {
    return undefined;
  }
};

const sameAddress = (a: string, b: string): boolean => {
  const version = isIP(a);
  if (version === 0 || version !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(b, version === 4 ? 'ipv4' : 'ipv6');
  return list.check(a, version === 4 ? 'ipv4' : 'ipv6');
};

/**
 * True for a name or address of this machine's loopback: 127.0.0.0/8, ::1, `localhost` and `*.localhost` (which
 * resolvers must keep on loopback, RFC 6761; fauxqs names its queues `sqs.<region>.localhost`).
 */
export const isLoopbackHost = (hostname: string): boolean => {
  const name = normalized(hostname);
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const version = isIP(name);
  return version !== 0 && LOOPBACK_ADDRESSES.check(name, version === 4 ? 'ipv4' : 'ipv6');
};

export interface HostPolicy {
  /**
   * The address the server listens on (`BIND_ADDRESS`). Loopback names are always allowed; another address is
   * allowed as well, and for `0.0.0.0` or `::` every address of this machine's interfaces.
   */
  readonly bindAddress: string;
  /** Further host names to answer to, e.g. a tunnel's public name in front of the webhook endpoint. */
  readonly extraHosts?: readonly string[];
}

const isOwnAddress = (name: string): boolean =>
  Object.values(networkInterfaces())
    .flat()
    .some((entry) => entry !== undefined && sameAddress(name, entry.address));

/** True when a request naming this host should reach a server that follows the policy. */
export const isAllowedHost = (hostname: string, policy: HostPolicy): boolean => {
  const name = normalized(hostname);
  if (isLoopbackHost(name)) return true;
  if ((policy.extraHosts ?? []).some((extra) => normalized(extra) === name)) return true;
  if (WILDCARDS.has(policy.bindAddress)) return isIP(name) !== 0 && isOwnAddress(name);
  return sameAddress(name, policy.bindAddress);
};

/**
 * Why the request is refused, or undefined when it may proceed. A browser names the page that made a request in
 * `Origin` (on every cross-origin request and on preflights), so any Origin at all is refused: nothing here is
 * for a web page. A Host other than loopback or the chosen address is what a DNS-rebinding page sends.
 */
export const refusal = (headers: IncomingHttpHeaders, policy: HostPolicy): string | undefined => {
  if (headers.origin !== undefined) return 'a request from a web page (Origin header)';
  const hostname = hostnameOf(headers.host);
  if (hostname === undefined || !isAllowedHost(hostname, policy)) return 'a Host this server does not serve';
  return undefined;
};

const FORBIDDEN_BODY = JSON.stringify({ message: 'Forbidden' });

/** The 403 every guarded server answers with: no CORS header, so a page cannot even read it. */
export const FORBIDDEN = {
  status: 403,
  headers: {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(FORBIDDEN_BODY)),
  },
  body: FORBIDDEN_BODY,
} as const;

const refuse = (request: IncomingMessage, response: ServerResponse): void => {
  // The body is never read; draining it keeps the connection usable.
  request.resume();
  response.writeHead(FORBIDDEN.status, FORBIDDEN.headers).end(FORBIDDEN.body);
};

/** The listener, reached only by requests the policy allows; the others get the 403 before it sees them. */
export const guardListener =
  (listener: RequestListener, policy: HostPolicy): RequestListener =>
  (request, response) => {
    if (refusal(request.headers, policy) === undefined) listener(request, response);
    else refuse(request, response);
  };
