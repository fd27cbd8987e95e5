// The one check every local server applies to a request's Origin and Host.

import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostnameOf, isAllowedHost, isLoopbackHost, refusal } from '../../local/request-guard.js';

const LOOPBACK_POLICY = { bindAddress: '127.0.0.1' };

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    'localhost',
    'LOCALHOST',
    'localhost.',
    'sqs.us-east-1.localhost',
  ])('takes %s for loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost.evil.example',
    'notlocalhost',
    '128.0.0.1',
    '10.0.0.1',
    '::2',
    '0.0.0.0',
  ])('does not take %s for loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('hostnameOf', () => {
  it('reads the name of a Host header with or without a port, IPv6 in brackets', () => {
    expect(hostnameOf('127.0.0.1:8000')).toBe('127.0.0.1');
    expect(hostnameOf('[::1]:9324')).toBe('::1');
    expect(hostnameOf('Sqs.US-East-1.localhost:9324')).toBe('sqs.us-east-1.localhost');
  });

  it.each([undefined, '', 'user@127.0.0.1', '127.0.0.1/path', '127.0.0.1:99999', 'a b'])(
    'finds no host name in %s',
    (host) => {
      expect(hostnameOf(host)).toBeUndefined();
    },
  );
});

describe('isAllowedHost', () => {
  it('allows the address chosen with BIND_ADDRESS, and only that one besides loopback', () => {
    const policy = { bindAddress: '192.168.1.20' };
    expect(isAllowedHost('192.168.1.20', policy)).toBe(true);
    expect(isAllowedHost('localhost', policy)).toBe(true);
    expect(isAllowedHost('192.168.1.21', policy)).toBe(false);
    expect(isAllowedHost('192.168.1.20', LOOPBACK_POLICY)).toBe(false);
  });

  it("allows the machine's own addresses when bound to every interface, and still no name", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .map((entry) => entry?.address)
      .filter((address): address is string => address !== undefined);
    for (const address of own) expect(isAllowedHost(address, { bindAddress: '0.0.0.0' })).toBe(true);
    expect(isAllowedHost('203.0.113.7', { bindAddress: '0.0.0.0' })).toBe(false);
    expect(isAllowedHost('evil.example', { bindAddress: '::' })).toBe(false);
  });

  it('allows the extra host names given, such as a tunnel in front of the webhook endpoint', () => {
    const policy = { bindAddress: '127.0.0.1', extraHosts: ['Hooks.Tunnel.example'] };
    expect(isAllowedHost('hooks.tunnel.example', policy)).toBe(true);
    expect(isAllowedHost('tunnel.example', policy)).toBe(false);
  });
});

describe('refusal', () => {
  it('lets a loopback request without Origin through', () => {
    expect(refusal({ host: '127.0.0.1:3000' }, LOOPBACK_POLICY)).toBeUndefined();
  });

  it.each([
    ['an Origin of another site', { host: '127.0.0.1:3000', origin: 'https://evil.example' }],
    ['an Origin of the server itself', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }],
    ['the opaque Origin of a sandboxed page', { host: '127.0.0.1:3000', origin: 'null' }],
    ['a rebound Host', { host: 'evil.example:3000' }],
    ['no Host', {}],
  ])('refuses a request with %s', (_case, headers) => {
    expect(refusal(headers, LOOPBACK_POLICY)).toBeDefined();
  });
});
