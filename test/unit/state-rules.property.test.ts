import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { sample } from '../support/fixtures.js';
import { outboundLifecycle } from '../support/lifecycle.js';
import { MemoryEventLog, MemoryStateStore } from '../support/memory.js';

/** Runs deliveries through persist and returns what a reader would see: state tables and the event log. */
const run = async (deliveries: readonly AircallEnvelope[]) => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  let receivedAt = 1_700_000_000_000;
  for (const envelope of deliveries) {
    receivedAt += 1000;
    await persistEvent({ envelope, account: 'acme', receivedAt }, { events, state, retentionDays: 0 });
  }
  const log = [...events.rows.values()]
    .map(({ received_at: _r, received_day: _d, ...rest }) => rest)
    .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));
  return { state: state.tables, log };
};

/** Each event delivered one to three times, in any order. */
const deliveriesOf = (lifecycle: readonly AircallEnvelope[]) =>
  fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: lifecycle.length, maxLength: lifecycle.length })
    .chain((copies) => {
      const all = lifecycle.flatMap((event, i) => Array.from({ length: copies[i] ?? 1 }, () => event));
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    });

describe('state rules', () => {
  it('reach the in-order state from every order and duplication of the captured call', async () => {
    const lifecycle = [
      sample('captured-outbound-call.created'),
      sample('captured-outbound-call.hungup'),
      sample('captured-outbound-call.ended'),
    ];
    const expected = await run(lifecycle);
    expect(expected.state.calls.get(780836699)).toMatchObject({ last_event: 'call.ended', duration: 20 });
    await fc.assert(
      fc.asyncProperty(deliveriesOf(lifecycle), async (deliveries) => {
        expect(await run(deliveries)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('reach the in-order state with annotations, a transcription, and users and numbers mixed in', async () => {
    const lifecycle = [
      ...outboundLifecycle(),
      sample('captured-inbound-voicemail-call.ended'),
      sample('captured-user.created'),
      sample('captured-user.connected'),
      sample('documented-number.closed'),
      sample('captured-contact.created'),
      sample('documented-integration.deleted'),
    ];
    const expected = await run(lifecycle);
    expect(expected.state.calls.get(780836699)).toMatchObject({ last_event: 'call.tagged', status: 'done' });
    await fc.assert(
      fc.asyncProperty(deliveriesOf(lifecycle), async (deliveries) => {
        expect(await run(deliveries)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
