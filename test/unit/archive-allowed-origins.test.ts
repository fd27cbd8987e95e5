import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALLOWED_ORIGINS,
  isAllowed,
  parseAllowedOrigins,
} from '../../lambdas/archive/allowed-origins.js';
import { InvalidAllowListError } from '../../lambdas/archive/errors.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const topLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
const dnsName = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), topLabel)
  .map(([labels, top]) => [...labels, top].join('.'));
const port = fc.integer({ min: 1, max: 65535 });

describe('parseAllowedOrigins', () => {
  it.each([
    ['ftp://example.com', 'a scheme other than http(s)'],
    ['https://example.com/path', 'a path'],
    ['https://example.com?x=1', 'a query'],
    ['https://user@example.com', 'credentials'],
    ['https://example.com:0', 'port 0'],
    ['https://example.com:65536', 'a port out of range'],
    ['https://*.com', 'a wildcard over a single label'],
    ['https://*.10.0.0.1', 'a wildcard over an address'],
    ['https://exa_mple.com', 'a character no host name has'],
    ['example.com', 'no scheme'],
    ['https://*example.com', 'a wildcard that is not a whole label'],
    ['https://0.0', 'a name a URL parser reads as an address'],
    ['https://media.example.0x1f', 'a name ending in a hex label'],
    ['https://*.example.123', 'a wildcard over a name ending in a number'],
  ])('rejects %s (%s)', (entry) => {
    expect(() => parseAllowedOrigins(entry)).toThrow(InvalidAllowListError);
  });

  it('names every invalid entry in one error', () => {
    const error = (() => {
      try {
        parseAllowedOrigins('https://ok.example.com, ftp://a.example.com ,https://b.example.com/x');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidAllowListError);
    expect((error as InvalidAllowListError).invalidEntries).toEqual([
      'ftp://a.example.com',
      'https://b.example.com/x',
    ]);
    expect((error as Error).message).toContain('"ftp://a.example.com"');
    expect((error as Error).message).toContain('"https://b.example.com/x"');
  });

  it('rejects a list that names no origin', () => {
    expect(() => parseAllowedOrigins(' , ')).toThrow(InvalidAllowListError);
  });

  it('parses exact hosts, ports, wildcards and addresses, ignoring case and spaces', () => {
    expect(
      parseAllowedOrigins(
        ' HTTPS://Media.Example.com , http://127.0.0.1:8080,https://*.cdn.example.com,http://[::1]:9',
      ),
    ).toEqual([
      { kind: 'exact', scheme: 'https', host: 'media.example.com', port: 443, mayBeInternal: true },
      { kind: 'exact', scheme: 'http', host: '127.0.0.1', port: 8080, mayBeInternal: true },
      { kind: 'subdomains', scheme: 'https', suffix: 'cdn.example.com', port: 443 },
      { kind: 'exact', scheme: 'http', host: '[::1]', port: 9, mayBeInternal: true },
    ]);
  });

  it('allows an exact origin on its scheme and port only', () => {
    fc.assert(
      fc.property(dnsName, port, (host, p) => {
        const list = parseAllowedOrigins(`https://${host}:${p}`);
        expect(isAllowed(`https://${host}:${p}/a/b?X-Amz-Date=1`, list)).toBe(true);
        expect(isAllowed(`http://${host}:${p}/a`, list)).toBe(false);
        expect(isAllowed(`https://${host}:${p === 65535 ? 1 : p + 1}/a`, list)).toBe(false);
        expect(isAllowed(`https://sub.${host}:${p}/a`, list)).toBe(false);
      }),
    );
  });

  it('allows plain http only for an origin listed with http', () => {
    fc.assert(
      fc.property(dnsName, (host) => {
        expect(isAllowed(`http://${host}/a`, parseAllowedOrigins(`http://${host}`))).toBe(true);
        expect(isAllowed(`http://${host}/a`, parseAllowedOrigins(`https://${host}`))).toBe(false);
      }),
    );
  });

  it('lets a wildcard allow subdomains, but not the bare name or a name that merely ends with it', () => {
    fc.assert(
      fc.property(dnsName, label, (suffix, sub) => {
        const list = parseAllowedOrigins(`https://*.${suffix}`);
        expect(isAllowed(`https://${sub}.${suffix}/x`, list)).toBe(true);
        expect(isAllowed(`https://${suffix}/x`, list)).toBe(false);
        expect(isAllowed(`https://${sub}${suffix}/x`, list)).toBe(false);
        expect(isAllowed(`https://${suffix}.${sub}.evil/x`, list)).toBe(false);
      }),
    );
  });

  it('matches an IPv6 origin however its address is written', () => {
    expect(isAllowed('http://[::1]:9/x', parseAllowedOrigins('http://[0:0:0::1]:9'))).toBe(true);
  });

  it('never allows a URL carrying credentials or a non-URL', () => {
    const list = parseAllowedOrigins('https://media.example.com');
    expect(isAllowed('https://user:pw@media.example.com/x', list)).toBe(false);
    expect(isAllowed('not a url', list)).toBe(false);
  });
});

describe('DEFAULT_ALLOWED_ORIGINS', () => {
  it.each([
    'https://production-eu-3-web.s3.eu-west-1.amazonaws.com/calls/1/recording.mp3?X-Amz-Expires=600',
    'https://production-us-12-web-recordings.s3.us-east-1.amazonaws.com/x.mp3',
    'https://production-ap-1-web.s3.ap-southeast-2.amazonaws.com/x.mp3',
    'https://media-web.aircall.io/greetings/1.mp3',
  ])('allows Aircall media at %s', (url) => {
    expect(isAllowed(url, DEFAULT_ALLOWED_ORIGINS)).toBe(true);
  });

  it.each([
    ['any other bucket in the region', 'https://attacker-bucket.s3.eu-west-1.amazonaws.com/x'],
    ['a bucket with a suffix after -web', 'https://production-eu-3-web-evil.s3.eu-west-1.amazonaws.com/x'],
    ['a bucket with a prefix', 'https://evil-production-eu-3-web.s3.eu-west-1.amazonaws.com/x'],
    ['a bucket without digits', 'https://production-eu-web.s3.eu-west-1.amazonaws.com/x'],
    [
      'the bucket name under another domain',
      'https://production-eu-3-web.s3.eu-west-1.amazonaws.com.evil.io/x',
    ],
    ['path-style S3', 'https://s3.eu-west-1.amazonaws.com/production-eu-3-web/x'],
    ['plain http to the bucket', 'http://production-eu-3-web.s3.eu-west-1.amazonaws.com/x'],
    ['another port on the bucket', 'https://production-eu-3-web.s3.eu-west-1.amazonaws.com:8443/x'],
    ['a subdomain of the media host', 'https://x.media-web.aircall.io/x'],
    ['plain http to the media host', 'http://media-web.aircall.io/x'],
    ['the stable asset link, which needs a login', 'https://assets.aircall.io/calls/1/recording'],
  ])('refuses %s', (_what, url) => {
    expect(isAllowed(url, DEFAULT_ALLOWED_ORIGINS)).toBe(false);
  });
});
