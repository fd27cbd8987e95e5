import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import { toStateWrites } from '../../lambdas/persist/records.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { sample } from '../support/fixtures.js';
import { outboundLifecycle } from '../support/lifecycle.js';
import { MemoryEventLog, MemoryStateStore } from '../support/memory.js';

const OWNER = 'acme';
const MARGIN_SECONDS = 300;

interface Delivery {
  readonly account: string;
  readonly envelope: AircallEnvelope;
}

const fromOwner = (envelope: AircallEnvelope): Delivery => ({ account: OWNER, envelope });

/**
 * Runs deliveries through persist, one second apart from `firstReceivedAt`, and returns what a reader would
 * see: state tables and the event log of each account.
 */
const run = async (
  deliveries: readonly (AircallEnvelope | Delivery)[],
  firstReceivedAt = 1_700_000_000_000,
) => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  let receivedAt = firstReceivedAt;
  for (const delivery of deliveries) {
    receivedAt += 1000;
    const { account, envelope } = 'account' in delivery ? delivery : fromOwner(delivery);
    await persistEvent(
      { envelope, account, receivedAt },
      { events, state, retentionDays: 0, timestampMarginSeconds: MARGIN_SECONDS },
    );
  }
  const log = [...events.rows.values()]
    .map(({ received_at: _r, ...rest }) => rest)
    .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));
  return { state: state.tables, log, ownerLog: log.filter((row) => row.account === OWNER) };
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

/** What another account may send about the owner's resources: changes, deletions, timestamps from the future. */
const forgeriesOf = (lifecycle: readonly AircallEnvelope[]): Delivery[] =>
  lifecycle.flatMap((envelope) => {
    const [resource] = envelope.event.split('.');
    const deletion = resource === 'call' || resource === undefined ? 'call.ended' : `${resource}.deleted`;
    return [
      {
        ...envelope,
        data: { ...envelope.data, name: 'taken over' },
        timestamp: (envelope.timestamp ?? 0) + 1,
      },
      { ...envelope, event: deletion, timestamp: (envelope.timestamp ?? 0) + 1 },
      { ...envelope, data: { ...envelope.data, status: 'done', name: 'poisoned' }, timestamp: FAR_FUTURE },
    ].map((forged) => ({ account: 'globex', envelope: forged }));
  });

/**
 * The first event of each state item the lifecycle writes. Ids are Aircall's, one key space for every account, so
 * the first account to write an item owns it: these make the owner that account before anyone else writes.
 */
const firstWritesOf = (lifecycle: readonly AircallEnvelope[]): AircallEnvelope[] => {
  const seen = new Set<string>();
  return lifecycle.filter((envelope) => {
    const targets = toStateWrites({ envelope, account: OWNER, receivedAt: 0 }, 'd', MARGIN_SECONDS).map(
      (write) => `${write.table}#${write.id}`,
    );
    const fresh = targets.filter((target) => !seen.has(target));
    for (const target of fresh) seen.add(target);
    return fresh.length > 0;
  });
};

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

  it("reach the owner's in-order state whatever another account sends about items the owner wrote first", async () => {
    const lifecycle = mixedLifecycle();
    const expected = await run(lifecycle);
    const claims = firstWritesOf(lifecycle);
    expect(claims).toHaveLength(6);
    const forgeries = forgeriesOf(lifecycle);
    await fc.assert(
      fc.asyncProperty(deliveriesOf([...lifecycle.map(fromOwner), ...forgeries]), async (deliveries) => {
        const result = await run([...claims, ...deliveries]);
        expect(result.state).toEqual(expected.state);
        expect(result.ownerLog).toEqual(expected.log);
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
