// Gap repair after a guardian pass, against in-memory fakes: when a gap is opened, from where, and how it is read
// across passes until it is closed.

import { describe, expect, it } from 'vitest';
import { type GapDeps, repairGap } from '../../lambdas/reconcile/gap.js';
import type { ApiReader, CallWindow, ListedPage } from '../../lambdas/reconcile/ports.js';
import type { AccountRecord, AccountStore, GapWindow } from '../../lambdas/shared/accounts.js';
import type { AircallEnvelope, JsonObject } from '../../lambdas/shared/envelope.js';

const NOW = 1_800_000_000;

class MemoryAccounts implements AccountStore {
  record: AccountRecord = { account: 'acme' };
  async read(): Promise<AccountRecord> {
    return this.record;
  }
  async noteEvents(_account: string, at: number) {
    this.record = { ...this.record, lastEventAt: at };
  }
  async noteActive(_account: string, at: number) {
    this.record = { ...this.record, seenActiveAt: at };
  }
  async openGap(_account: string, gap: GapWindow) {
    if (this.record.gap === undefined) this.record = { ...this.record, gap };
  }
  async saveCursor(_account: string, cursor: string) {
    this.record = { ...this.record, cursor };
  }
  async closeGap(_account: string, at: number) {
    const { gap: _gap, cursor: _cursor, ...rest } = this.record;
    this.record = { ...rest, reconciledAt: at };
  }
}

const calls = (count: number, from: number): JsonObject[] =>
  Array.from({ length: count }, (_, i) => ({
    id: 10 + i,
    status: 'done',
    started_at: from + i,
    ended_at: from + i + 9,
  }));

const readerOf = (all: JsonObject[]): ApiReader & { asked: CallWindow[] } => {
  const asked: CallWindow[] = [];
  const empty = async (): Promise<ListedPage> => ({ items: [], total: 0, nextPageLink: null });
  return {
    asked,
    callsPage: async (window, next) => {
      if (next === undefined) asked.push(window);
      const page = next === undefined ? 0 : Number(next);
      const matching = all.filter(
        (c) => Number(c.started_at) >= window.from && Number(c.started_at) <= window.to,
      );
      const items = matching.slice(page * 50, page * 50 + 50);
      return {
        items,
        total: matching.length,
        nextPageLink: page * 50 + 50 < matching.length ? String(page + 1) : null,
      };
    },
    usersPage: empty,
    numbersPage: empty,
    contactsPage: empty,
  };
};

const setup = (all: JsonObject[], clock = { now: NOW * 1000 }) => {
  const accounts = new MemoryAccounts();
  const sent: AircallEnvelope[] = [];
  const reader = readerOf(all);
  const deps: GapDeps = {
    accounts,
    reader,
    stored: { orderKeys: async () => new Map() },
    sink: { send: async (_account, envelopes) => void sent.push(...envelopes) },
    isListingCap: () => false,
    now: () => clock.now,
  };
  return { accounts, sent, reader, deps, clock };
};

describe('repairGap', () => {
  it('opens a gap from a margin before the last event when the pass re-enabled a webhook, and reads it whole', async () => {
    const { accounts, sent, deps } = setup(calls(120, NOW - 3000));
    accounts.record = { account: 'acme', lastEventAt: NOW - 3600 };
    const repair = await repairGap('acme', { reenabled: true, allActive: true }, deps);

    expect(repair).toMatchObject({ opened: 'reenabled', gap: { from: NOW - 3600 - 600, to: NOW } });
    expect(repair.report?.complete).toBe(true);
    expect(sent).toHaveLength(120);
    expect(accounts.record).toMatchObject({ reconciledAt: NOW, seenActiveAt: NOW });
    expect(accounts.record.gap).toBeUndefined();
  });

  it('asks Aircall about calls since a quiet account’s last event, and opens a gap only when it has some', async () => {
    const quiet = setup([]);
    quiet.accounts.record = { account: 'acme', lastEventAt: NOW - 7200 };
    expect(await repairGap('acme', { reenabled: false, allActive: true }, quiet.deps)).toEqual({
      account: 'acme',
    });
    expect(quiet.reader.asked).toEqual([{ from: NOW - 7200 + 120, to: NOW - 300 }]);

    const missed = setup(calls(3, NOW - 5000));
    missed.accounts.record = { account: 'acme', lastEventAt: NOW - 7200 };
    const repair = await repairGap('acme', { reenabled: false, allActive: true }, missed.deps);
    expect(repair).toMatchObject({ opened: 'calls unseen', gap: { from: NOW - 7200 - 600, to: NOW } });
    expect(missed.sent).toHaveLength(3);
  });

  it('asks nothing of an account whose events are recent', async () => {
    const { accounts, reader, deps } = setup(calls(3, NOW - 100));
    accounts.record = { account: 'acme', lastEventAt: NOW - 60 };
    expect(await repairGap('acme', { reenabled: false, allActive: true }, deps)).toEqual({ account: 'acme' });
    expect(reader.asked).toEqual([]);
  });

  it('keeps its cursor when the deadline stops it, and the next pass goes on from there and closes the gap', async () => {
    const all = calls(300, NOW - 3000);
    const { accounts, sent, deps, clock } = setup(all);
    accounts.record = { account: 'acme', lastEventAt: NOW - 3600 };
    const first = await repairGap(
      'acme',
      { reenabled: true, allActive: true },
      { ...deps, deadline: clock.now },
    );
    expect(first.report?.complete).toBe(false);
    expect(accounts.record.cursor).toBeDefined();

    const second = await repairGap('acme', { reenabled: false, allActive: true }, deps);
    expect(second.report?.complete).toBe(true);
    expect(sent.map((e) => e.data.id)).toEqual(all.map((c) => c.id));
    expect(accounts.record.gap).toBeUndefined();
  });
});
