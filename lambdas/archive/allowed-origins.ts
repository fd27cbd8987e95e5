// Which origins the archive may download from: a parsed allow-list, with Aircall's media hosts as the default.

import { isIP } from 'node:net';
import { InvalidAllowListError } from './errors.js';

export type Scheme = 'https' | 'http';

/**
 * One allowed origin. `exact` entries name one host; the others match a family of hosts. `mayBeInternal` says
 * the host may resolve to a loopback, private or link-local address: true for an exact origin an operator
 * listed (a test server, a VPC endpoint), false for the built-in defaults, which are public hosts.
 */
export type AllowedOrigin =
  | {
      readonly kind: 'exact';
      readonly scheme: Scheme;
      readonly host: string;
      readonly port: number;
      readonly mayBeInternal: boolean;
    }
  | { readonly kind: 'subdomains'; readonly scheme: Scheme; readonly suffix: string; readonly port: number }
  | { readonly kind: 'aircall-s3' };

export type AllowList = readonly AllowedOrigin[];

const DEFAULT_PORT: Record<Scheme, number> = { https: 443, http: 80 };

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const ENTRY = /^(https?):\/\/(\*\.)?(\[[0-9a-f:.]+\]|[^/:?#@[\]]+)(?::(\d{1,5}))?$/;

/**
 * Aircall's recording buckets, `production-<region-code>-<digits>-web[-recordings].s3.<region>.amazonaws.com`.
 * A dedicated matcher rather than `*.s3.<region>.amazonaws.com`, which would allow anyone's bucket. Bucket names
 * are global, so the shape is a narrowing, not a proof of ownership: the address and size checks still apply.
 */
const AIRCALL_S3_HOST =
  /^production-[a-z]{2,4}-[0-9]{1,4}-web(?:-recordings)?\.s3\.[a-z]{2}(?:-[a-z]+){1,2}-[0-9]\.amazonaws\.com$/;

export const AIRCALL_S3_ORIGIN: AllowedOrigin = { kind: 'aircall-s3' };

/** Aircall's recording buckets and its media host (IVR and greeting audio). */
export const DEFAULT_ALLOWED_ORIGINS: AllowList = [
  AIRCALL_S3_ORIGIN,
  { kind: 'exact', scheme: 'https', host: 'media-web.aircall.io', port: 443, mayBeInternal: false },
];

function parseEntry(entry: string): AllowedOrigin | undefined {
  const match = ENTRY.exec(entry.toLowerCase());
  if (!match) return undefined;
  const [, scheme, wildcard, host = '', portText] = match;
  if (scheme !== 'https' && scheme !== 'http') return undefined;
  const port = portText === undefined ? DEFAULT_PORT[scheme] : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;

  const bracketed = host.startsWith('[');
  const ip = isIP(bracketed ? host.slice(1, -1) : host);
  if (bracketed && ip !== 6) return undefined;
  if (ip !== 0) {
    // A wildcard over an address means nothing; an address is one exact host.
    if (wildcard) return undefined;
    // Written as a URL writes it (`[0:0::1]` is `[::1]`), so the comparison with a link's host is exact.
    return {
      kind: 'exact',
      scheme,
      host: new URL(`${scheme}://${host}`).hostname,
      port,
      mayBeInternal: true,
    };
  }
  // A name ending in a numeric label is one a URL parser reads as an IPv4 address (`0.0` is 0.0.0.0).
  if (!DNS_NAME.test(host) || /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/.test(host)) return undefined;
  if (wildcard) {
    // `*.com` or `*.localhost` would allow far more than anyone means: require a name of two labels or more.
    if (!host.includes('.')) return undefined;
    return { kind: 'subdomains', scheme, suffix: host, port };
  }
  return { kind: 'exact', scheme, host, port, mayBeInternal: true };
}

/**
 * Parses a comma-separated list of `scheme://host[:port]` origins; `*.host` allows its subdomains (not host
 * itself). Plain http is allowed only where an entry says http. Throws InvalidAllowListError naming every bad entry.
 */
export function parseAllowedOrigins(text: string): AllowList {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new InvalidAllowListError('the allow-list names no origin', []);
  const parsed: AllowedOrigin[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const origin = parseEntry(entry);
    if (origin) parsed.push(origin);
    else invalid.push(entry);
  }
  if (invalid.length > 0) {
    throw new InvalidAllowListError(
      `invalid allow-list entries (expected scheme://host[:port], optionally *.host): ${invalid.map((e) => JSON.stringify(e)).join(', ')}`,
      invalid,
    );
  }
  return parsed;
}

function toUrl(url: URL | string): URL | undefined {
  if (url instanceof URL) return url;
  return URL.canParse(url) ? new URL(url) : undefined;
}

/** The entry that allows `url`'s origin, or undefined. URLs carrying credentials are never allowed. */
export function findAllowingOrigin(url: URL | string, list: AllowList): AllowedOrigin | undefined {
  const parsed = toUrl(url);
  if (parsed === undefined) return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'https' && scheme !== 'http') return undefined;
  const host = parsed.hostname.toLowerCase();
  const port = parsed.port === '' ? DEFAULT_PORT[scheme] : Number(parsed.port);
  return list.find((origin) => {
    switch (origin.kind) {
      case 'aircall-s3':
        return scheme === 'https' && port === 443 && AIRCALL_S3_HOST.test(host);
      case 'exact':
        return origin.scheme === scheme && origin.port === port && origin.host === host;
      case 'subdomains':
        return origin.scheme === scheme && origin.port === port && host.endsWith(`.${origin.suffix}`);
    }
    return false;
  });
}

export function isAllowed(url: URL | string, list: AllowList): boolean {
  return findAllowingOrigin(url, list) !== undefined;
}
