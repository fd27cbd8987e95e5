import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import type { QueuedEvent, StateStore } from '../../lambdas/persist/ports.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { decodeItem } from '../../lib/definitions/payload.js';
import { sample } from '../support/fixtures.js';
import { outboundLifecycle } from '../support/lifecycle.js';
import { MemoryEventLog, MemoryStateStore } from '../support/memory.js';

const queue = (envelope: AircallEnvelope, receivedAt = 1_700_000_000_000): QueuedEvent => ({
  envelope,
  account: 'acme',
  receivedAt,
});

const setup = () => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  return { events, state, deps: { events, state, retentionDays: 0, timestampMarginSeconds: 300 } };
};

const [created, answered, liveTag, hungup, ended, comment, lateTag, transcript] = outboundLifecycle().map(
  (e) => queue(e),
);

describe('persistEvent', () => {
  it('stores a duplicate delivery once and changes nothing the second time', async () => {
    const { events, state, deps } = setup();
    if (ended === undefined) throw new Error('lifecycle too short');
    expect(await persistEvent(ended, deps)).toEqual({
      logged: true,
      applied: 1,
      stale: 0,
      foreign: 0,
      refused: [],
      mediaJobs: 0,
    });
    const before = structuredClone(state.tables.calls.get(780836699));
    expect(await persistEvent({ ...ended, receivedAt: ended.receivedAt + 5000 }, deps)).toEqual({
      logged: false,
      applied: 0,
      stale: 1,
      foreign: 0,
      refused: [],
      mediaJobs: 0,
    });
    expect(events.rows.size).toBe(1);
    expect(state.tables.calls.get(780836699)).toEqual(before);
  });

  it('keeps the ended state when hungup arrives late', async () => {
    const { state, deps } = setup();
    for (const event of [created, ended, hungup]) if (event) await persistEvent(event, deps);
    expect(state.tables.calls.get(780836699)).toMatchObject({
      last_event: 'call.ended',
      status: 'done',
      duration: 20,
    });
  });

  it('lets annotations after call.ended update the call, but not a tag from during the call', async () => {
    const { state, deps } = setup();
    for (const event of [created, ended, lateTag, comment, liveTag, answered])
      if (event) await persistEvent(event, deps);
    const call = state.tables.calls.get(780836699);
    expect(call).toMatchObject({ last_event: 'call.tagged', status: 'done' });
    expect(call?.tags).toEqual([
      { id: 1, name: 'vip' },
      { id: 2, name: 'renewal' },
    ]);
  });

  it('adds a transcription to the call without disturbing its state, in either order', async () => {
    const first = setup();
    const second = setup();
    for (const event of [ended, transcript]) if (event) await persistEvent(event, first.deps);
    for (const event of [transcript, ended]) if (event) await persistEvent(event, second.deps);
    const call = first.state.tables.calls.get(780836699);
    expect(call).toMatchObject({
      last_event: 'call.ended',
      transcription: { event: 'transcription.created' },
    });
    expect(second.state.tables.calls.get(780836699)).toEqual(call);
  });

  it('lists the history of a call in lifecycle order with each event once', async () => {
    const { events, deps } = setup();
    const all = [transcript, lateTag, hungup, created, ended, comment, answered, liveTag, ended, created];
    for (const event of all) if (event) await persistEvent(event, deps);
    expect(events.partition('call#780836699').map((row) => row.event)).toEqual([
      'call.created',
      'call.answered',
      'call.tagged',
      'call.hungup',
      'call.ended',
      'call.commented',
      'call.tagged',
      'transcription.created',
    ]);
  });

  it('fails when the state store fails, so that the record is retried, and then completes', async () => {
    const { events, state, deps } = setup();
    let failures = 1;
    const flaky: StateStore = {
      apply: async (write) => {
        if (failures-- > 0) throw new Error('throttled');
        return state.apply(write);
      },
    };
    if (ended === undefined) throw new Error('lifecycle too short');
    await expect(persistEvent(ended, { ...deps, state: flaky })).rejects.toThrow('throttled');
    expect(await persistEvent(ended, { ...deps, state: flaky })).toEqual({
      logged: false,
      applied: 1,
      stale: 0,
      foreign: 0,
      refused: [],
      mediaJobs: 0,
    });
    expect(events.rows.size).toBe(1);
    expect(state.tables.calls.get(780836699)?.last_event).toBe('call.ended');
  });
});

/** The largest timestamp JSON can carry exactly: what a forger sends to outrank every real event. */
const FAR_FUTURE = 9007199254740991;

const as = (account: string, envelope: AircallEnvelope, receivedAt = 1_700_000_000_000): QueuedEvent => ({
  envelope,
  account,
  receivedAt,
});
const retimed = (
  envelope: AircallEnvelope,
  event: string,
  timestamp: number,
  data = {},
): AircallEnvelope => ({
  ...envelope,
  event,
  timestamp,
  data: { ...envelope.data, ...data },
});

describe('persistEvent between accounts', () => {
  const owned = [
    ['calls', 780836699, sample('captured-outbound-call.ended'), 'call.ended'],
    ['users', 736640, sample('captured-user.connected'), 'user.deleted'],
    ['numbers', 456, sample('documented-number.closed'), 'number.deleted'],
    ['contacts', 76041687, sample('captured-contact.created'), 'contact.deleted'],
  ] as const;

  it.each(owned)(
    "refuses another account's change, deletion or future timestamp on %s and logs the event under its sender",
    async (table, id, original, deletion) => {
      const { events, state, deps } = setup();
      await persistEvent(as('acme', original), deps);
      const before = structuredClone(state.tables[table].get(id));

      const attacks = [
        retimed(original, original.event, (original.timestamp ?? 0) + 60, { name: 'taken over' }),
        retimed(original, deletion, (original.timestamp ?? 0) + 60),
        retimed(original, original.event, FAR_FUTURE, { name: 'poisoned' }),
      ];
      for (const attack of attacks) {
        expect(await persistEvent(as('globex', attack), deps)).toMatchObject({
          logged: true,
          applied: 0,
          stale: 0,
          foreign: 1,
          refused: [{ table, id }],
        });
      }

      expect(state.tables[table].get(id)).toEqual(before);
      const logged = [...events.rows.values()].filter((row) => row.account === 'globex');
      expect(logged.map((row) => row.event)).toEqual(attacks.map((attack) => attack.event));
    },
  );

  it.each(owned)(
    "still applies the owner's later events to %s after another account tried",
    async (table, id, original) => {
      const { state, deps } = setup();
      await persistEvent(as('acme', original), deps);
      await persistEvent(
        as('globex', retimed(original, original.event, FAR_FUTURE, { name: 'poisoned' })),
        deps,
      );

      const later = retimed(original, original.event, (original.timestamp ?? 0) + 120, {
        name: 'renamed by acme',
      });
      expect(await persistEvent(as('acme', later), deps)).toMatchObject({ applied: 1, foreign: 0 });
      expect(decodeItem(state.tables[table].get(id))).toMatchObject({
        account: 'acme',
        data: expect.objectContaining({ name: 'renamed by acme' }),
      });
    },
  );

  it("refuses another account's transcription of the call, and keeps the owner's", async () => {
    const { state, deps } = setup();
    if (ended === undefined || transcript === undefined) throw new Error('lifecycle too short');
    await persistEvent(ended, deps);
    const forged = {
      ...transcript.envelope,
      data: { call_id: 780836699, transcription: { content: 'forged' } },
    };

    expect(await persistEvent(as('globex', forged), deps)).toMatchObject({
      foreign: 1,
      refused: [{ table: 'calls', id: 780836699 }],
    });
    expect(state.tables.calls.get(780836699)).not.toHaveProperty('transcription');
    expect(await persistEvent(transcript, deps)).toMatchObject({ applied: 1 });
    expect(decodeItem(state.tables.calls.get(780836699)?.transcription)).toMatchObject({
      data: { transcription: { content: 'hello' } },
    });
  });

  it("lets the first account to write an item own it, whoever's the event", async () => {
    const { state, deps } = setup();
    const user = sample('captured-user.connected');
    await persistEvent(as('globex', user), deps);
    expect(
      await persistEvent(as('acme', retimed(user, 'user.opened', (user.timestamp ?? 0) + 1)), deps),
    ).toMatchObject({
      foreign: 1,
    });
    expect(state.tables.users.get(736640)?.account).toBe('globex');
  });
});

describe('persistEvent write units', () => {
  it('sums the write units the stores report', async () => {
    const events = new MemoryEventLog({ writeUnits: 1 });
    const state = new MemoryStateStore({ writeUnits: 2 });
    const deps = { events, state, retentionDays: 0, timestampMarginSeconds: 300 };
    if (ended === undefined) throw new Error('lifecycle too short');
    expect(await persistEvent(ended, deps)).toMatchObject({ writeUnits: 3 });
    // A duplicate is refused by both conditions, and a refused write reports no capacity.
    expect(await persistEvent(ended, deps)).not.toHaveProperty('writeUnits');
  });

  it('reports no write units when the stores report none', async () => {
    const { deps } = setup();
    if (ended === undefined) throw new Error('lifecycle too short');
    expect(await persistEvent(ended, deps)).not.toHaveProperty('writeUnits');
  });
});

describe('persistEvent timestamps', () => {
  const RECEIVED = 1_700_000_000_000;
  const user = sample('captured-user.connected');

  it('does not let a timestamp beyond the margin outrank a later real event', async () => {
    const { events, state, deps } = setup();
    await persistEvent(
      as('acme', retimed(user, 'user.opened', FAR_FUTURE, { available: true }), RECEIVED),
      deps,
    );
    const later = retimed(user, 'user.closed', RECEIVED / 1000 + 10, { available: false });

    expect(await persistEvent(as('acme', later, RECEIVED + 20_000), deps)).toMatchObject({ applied: 1 });
    expect(state.tables.users.get(736640)).toMatchObject({ last_event: 'user.closed', available: false });
    expect([...events.rows.values()].map((row) => row.timestamp).sort()).toEqual(
      [RECEIVED / 1000 + 10, FAR_FUTURE].sort(),
    );
  });

  it('orders a timestamp within the margin as sent', async () => {
    const { state, deps } = setup();
    await persistEvent(
      as('acme', retimed(user, 'user.opened', RECEIVED / 1000 + 299, { available: true }), RECEIVED),
      deps,
    );
    const earlier = retimed(user, 'user.closed', RECEIVED / 1000 + 10, { available: false });

    expect(await persistEvent(as('acme', earlier, RECEIVED + 20_000), deps)).toMatchObject({
      applied: 0,
      stale: 1,
    });
    expect(state.tables.users.get(736640)).toMatchObject({ last_event: 'user.opened', available: true });
  });

  it('follows the margin it is given', async () => {
    const { state, deps } = setup();
    const strict = { ...deps, timestampMarginSeconds: 0 };
    await persistEvent(
      as('acme', retimed(user, 'user.opened', RECEIVED / 1000 + 1, { available: true }), RECEIVED),
      strict,
    );
    const next = retimed(user, 'user.closed', RECEIVED / 1000 + 1, { available: false });

    // Ordered at the receive second, the early opened event ranks below a closed one of the second after it.
    expect(await persistEvent(as('acme', next, RECEIVED + 5000), strict)).toMatchObject({ applied: 1 });
    expect(state.tables.users.get(736640)).toMatchObject({ last_event: 'user.closed' });
  });
});
