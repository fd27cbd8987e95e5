// Caches registry look-ups in memory, known and unknown tokens alike, so a warm ingest rarely reads the table.

import type { RegisteredWebhook, TokenRegistry } from './ports.js';

export interface TokenCacheOptions {
  /** How long a known token stays cached. */
  readonly positiveTtlMs: number;
  /** How long an unknown token stays cached: short, so a newly created webhook is accepted soon. */
  readonly negativeTtlMs: number;
  /** Entries kept at most; a flood of random tokens cannot grow memory past this. */
  readonly maxEntries: number;
  readonly now: () => number;
}

interface Entry {
  readonly value: RegisteredWebhook | undefined;
  readonly expiresAt: number;
}

export class CachedTokenRegistry implements TokenRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly registry: TokenRegistry,
    private readonly options: TokenCacheOptions,
  ) {}

  async find(tokenHash: string): Promise<RegisteredWebhook | undefined> {
    const now = this.options.now();
    const cached = this.entries.get(tokenHash);
    if (cached !== undefined && cached.expiresAt > now) return cached.value;

    const value = await this.registry.find(tokenHash);
    const ttl = value === undefined ? this.options.negativeTtlMs : this.options.positiveTtlMs;
    this.entries.delete(tokenHash);
    if (this.entries.size >= this.options.maxEntries) {
      // Maps iterate in insertion order, so the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(tokenHash, { value, expiresAt: now + ttl });
    return value;
  }
}
