import { describe, expect, it } from 'vitest';
import type { RegisteredWebhook, TokenRegistry } from '../../lambdas/ingest/ports.js';
import { CachedTokenRegistry } from '../../lambdas/ingest/token-cache.js';

class CountingRegistry implements TokenRegistry {
  calls = 0;
  constructor(private readonly known: Map<string, RegisteredWebhook>) {}
  async find(tokenHash: string): Promise<RegisteredWebhook | undefined> {
    this.calls += 1;
    return this.known.get(tokenHash);
  }
}

const setup = (maxEntries = 100) => {
  let now = 0;
  const inner = new CountingRegistry(new Map([['known', { account: 'acme', tokenHash: 'known' }]]));
  const cache = new CachedTokenRegistry(inner, {
    positiveTtlMs: 60_000,
    negativeTtlMs: 5_000,
    maxEntries,
    now: () => now,
  });
  return { inner, cache, advance: (ms: number) => (now += ms) };
};

describe('CachedTokenRegistry', () => {
  it('reads a known token once within its time to live', async () => {
    const { inner, cache, advance } = setup();
    expect(await cache.find('known')).toEqual({ account: 'acme', tokenHash: 'known' });
    advance(59_000);
    await cache.find('known');
    expect(inner.calls).toBe(1);
    advance(2_000);
    await cache.find('known');
    expect(inner.calls).toBe(2);
  });

  it('remembers an unknown token for the shorter negative time to live', async () => {
    const { inner, cache, advance } = setup();
    expect(await cache.find('nope')).toBeUndefined();
    advance(4_000);
    await cache.find('nope');
    expect(inner.calls).toBe(1);
    advance(2_000);
    await cache.find('nope');
    expect(inner.calls).toBe(2);
  });

  it('evicts the oldest entry instead of growing past its bound', async () => {
    const { inner, cache } = setup(2);
    await cache.find('a');
    await cache.find('b');
    await cache.find('c');
    await cache.find('b');
    expect(inner.calls).toBe(3);
    await cache.find('a');
    expect(inner.calls).toBe(4);
  });
});
