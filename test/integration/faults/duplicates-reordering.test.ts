// Bursts of duplicates, shuffled, under concurrent load: the state reached is what the same events sent once and in
// order reach on a second stack, and the event log holds each distinct event once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryBody, type GeneratedEvent } from '../../../simulator/envelope.js';
import { randomCompany, type Simulator, startSimulator } from '../../../simulator/simulator.js';
import { startTestLocalStack, type TestLocalStack, TOKEN, waitFor } from '../../support/local.js';
import { type Item, scanEvents, scanTable } from '../../support/tables.js';
import { type Sent, sendAll, tally } from './traffic.js';

const CALLS = 50;
const CONCURRENCY = 16;

/** A small seeded generator, so that a failure can be replayed with the same copies and order. */
const seeded = (seed: number): (() => number) => {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
};

/** Each event 1 to 3 times, the whole lot shuffled. */
const duplicatedAndShuffled = (events: readonly GeneratedEvent[], random: () => number): GeneratedEvent[] => {
  const copies = events.flatMap((event) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => event));
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copies[i], copies[j]] = [copies[j] as GeneratedEvent, copies[i] as GeneratedEvent];
  }
  return copies;
};

/** What a row says about the data, without what only the moment of arrival decides. */
const ARRIVAL_ATTRIBUTES = ['received_at', 'expires_at', 'updated_at'];
const withoutArrival = (item: Item): Item =>
  Object.fromEntries(Object.entries(item).filter(([name]) => !ARRIVAL_ATTRIBUTES.includes(name)));

const byKey = (items: readonly Item[], key: (item: Item) => string): Record<string, Item> =>
  Object.fromEntries(items.map((item) => [key(item), withoutArrival(item)]));

const drained = (local: TestLocalStack, sent: number) =>
  waitFor(() => {
    const { activity } = local.stack;
    return local.stack.depth().queue === 0 && activity.persisted + activity.failed >= sent ? true : undefined;
  }, 60_000);

const stateOf = async (local: TestLocalStack) => ({
  calls: byKey(await scanTable(local.documents, local.settings.tables.calls), (item) => String(item.id)),
  users: byKey(await scanTable(local.documents, local.settings.tables.users), (item) => String(item.id)),
  events: await scanEvents(local.documents, local.settings.tables.events),
});

describe('duplicates and reordering under load', () => {
  let simulator: Simulator;
  let stormed: TestLocalStack;
  let inOrder: TestLocalStack;

  beforeAll(async () => {
    // Only to generate lifecycles: it has no webhook, so it delivers nothing itself.
    simulator = await startSimulator({ port: 0, companies: [randomCompany('storm')], seed: 7 });
    [stormed, inOrder] = await Promise.all([
      startTestLocalStack({ logLevel: 'CRITICAL', archiveMedia: false }),
      startTestLocalStack({ logLevel: 'CRITICAL', archiveMedia: false }),
    ]);
  });

  afterAll(async () => {
    await stormed?.dispose();
    await inOrder?.dispose();
    await simulator?.stop();
  });

  it('reaches the in-order state with every distinct event stored once', async () => {
    const events = simulator.generate(CALLS);
    const storm = duplicatedAndShuffled(events, seeded(20_240_601));
    const bodies = (list: readonly GeneratedEvent[]) =>
      list.map((event, i) => ({ id: i, key: event.key, body: deliveryBody(event, TOKEN) }));

    // The reference: each event once, one at a time, in the order Aircall made them.
    const once: Sent[] = await sendAll(inOrder.stack.webhookUrl, bodies(events), 1);
    await drained(inOrder, events.length);
    const stormAnswers = await sendAll(stormed.stack.webhookUrl, bodies(storm), CONCURRENCY);
    await drained(stormed, storm.length);

    const expected = await stateOf(inOrder);
    const actual = await stateOf(stormed);
    const distinct = new Set(events.map((event) => event.key)).size;
    const copiesPerDigest = tally(actual.events.map((row) => `${row.pk}|${row.sk}`));

    expect({
      distinctEvents: distinct,
      sentInStorm: storm.length,
      answered200InStorm: stormAnswers.filter((a) => a.status === 200).length,
      answered200InOrder: once.filter((a) => a.status === 200).length,
      eventRowsInStorm: actual.events.length,
      eventRowsInOrder: expected.events.length,
      eventsStoredTwice: [...copiesPerDigest.values()].filter((n) => n > 1).length,
      calls: Object.keys(actual.calls).length,
      deadLettered: stormed.stack.depth().deadLetterQueue,
    }).toEqual({
      distinctEvents: events.length,
      sentInStorm: storm.length,
      answered200InStorm: storm.length,
      answered200InOrder: events.length,
      eventRowsInStorm: events.length,
      eventRowsInOrder: events.length,
      eventsStoredTwice: 0,
      calls: CALLS,
      deadLettered: 0,
    });
    // Duplicates were really sent, and really out of order.
    expect(storm.length).toBeGreaterThan(events.length * 1.5);
    expect(storm.map((e) => e.key)).not.toEqual(events.map((e) => e.key));
    expect(actual.calls).toEqual(expected.calls);
    expect(actual.users).toEqual(expected.users);
    expect(byKey(actual.events, (row) => `${row.pk}|${row.sk}`)).toEqual(
      byKey(expected.events, (row) => `${row.pk}|${row.sk}`),
    );
  }, 120_000);
});
