import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { sample } from '../support/fixtures.js';
import { outboundLifecycle } from '../support/lifecycle.js';
import { MemoryEventLog, MemoryStateStore } from '../support/memory.js';

const MARGIN_SECONDS = 300;

/**
 * Runs deliveries through persist, one second apart from `firstReceivedAt`, and returns what a reader would
 * see: state tables and the event log.
 */
const run = async (deliveries: readonly AircallEnvelope[], firstReceivedAt = 1_700_000_000_000) => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  let receivedAt = firstReceivedAt;
  for (const envelope of deliveries) {
    receivedAt += 1000;
    await persistEvent(
      { envelope, account: 'acme', receivedAt },
      { events, state, retentionDays: 0, timestampMarginSeconds: MARGIN_SECONDS },
    );
  }
  const log = [...events.rows.values()]
    .map(({ received_at: _r, received_day: _d, ...rest }) => rest)
    .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));
  return { state: state.tables, log };
};

/** Each event delivered one to three times, in any order. */
const deliveriesOf = <T>(lifecycle: readonly T[]) =>
  fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: lifecycle.length, maxLength: lifecycle.length })
    .chain((copies) => {
      const all = lifecycle.flatMap((event, i) => Array.from({ length: copies[i] ?? 1 }, () => event));
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    });

/** The largest timestamp JSON carries exactly: what a forger sends to outrank every real event. */
const FAR_FUTURE = 9007199254740991;

const mixedLifecycle = (): AircallEnvelope[] => [
  ...outboundLifecycle(),
  sample('captured-inbound-voicemail-call.ended'),
  sample('captured-user.created'),
  sample('captured-user.connected'),
  sample('documented-number.closed'),
  sample('captured-contact.created'),
  sample('documented-integration.deleted'),
];

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
    const lifecycle = mixedLifecycle();
    const expected = await run(lifecycle);
    expect(expected.state.calls.get(780836699)).toMatchObject({ last_event: 'call.tagged', status: 'done' });
    await fc.assert(
      fc.asyncProperty(deliveriesOf(lifecycle), async (deliveries) => {
        expect(await run(deliveries)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("let no timestamp from beyond the margin outrank a real event stamped after the forgery's receipt", async () => {
    const user = sample('captured-user.connected');
    const lifecycle = [sample('captured-user.created'), user, { ...user, event: 'user.opened' }];
    // Received a day after the samples were stamped, as a retried delivery may be; each a second apart.
    const firstReceivedAt = ((user.timestamp ?? 0) + 86_400) * 1000;
    const deliveries = (lifecycle.length + 1) * 3 + 1;
    // Stamped after every receipt of the run, within the margin of its own.
    const later: AircallEnvelope = {
      ...user,
      event: 'user.closed',
      timestamp: firstReceivedAt / 1000 + deliveries + 2,
      data: { ...user.data, available: false },
    };
    const forged: AircallEnvelope = { ...user, event: 'user.opened', timestamp: FAR_FUTURE };
    const expected = await run([...lifecycle, later], firstReceivedAt);
    expect(expected.state.users.get(736640)).toMatchObject({ last_event: 'user.closed', available: false });
    await fc.assert(
      fc.asyncProperty(deliveriesOf([...lifecycle, forged]), async (shuffled) => {
        const result = await run([...shuffled, later], firstReceivedAt);
        expect(result.state).toEqual(expected.state);
      }),
      { numRuns: 200 },
    );
  });
});
