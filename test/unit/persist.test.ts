import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import type { QueuedEvent, StateStore } from '../../lambdas/persist/ports.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
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
    expect(await persistEvent(ended, deps)).toEqual({ logged: true, applied: 1, skipped: 0 });
    const before = structuredClone(state.tables.calls.get(780836699));
    expect(await persistEvent({ ...ended, receivedAt: ended.receivedAt + 5000 }, deps)).toEqual({
      logged: false,
      applied: 0,
      skipped: 1,
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
      skipped: 0,
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
      skipped: 1,
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
