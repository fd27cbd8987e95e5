// Objects read from Aircall's API, mixed into any order and duplication of webhook deliveries: they fill in what
// webhooks never brought and complete a provisional call, and never replace what a later webhook event brought.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persistEvent } from '../../lambdas/persist/persist.js';
import { toEventRecord } from '../../lambdas/persist/records.js';
import type { AircallEnvelope, JsonObject } from '../../lambdas/shared/envelope.js';
import { type FetchedResource, fetchedEventName, fetchedTimestamp } from '../../lib/definitions/fetched.js';
import { sample } from '../support/fixtures.js';
import { outboundLifecycle } from '../support/lifecycle.js';
import { MemoryEventLog, MemoryStateStore } from '../support/memory.js';

const CALL_ID = 780836699;

/** The object as the API would answer it, made into the event reconcile sends. */
const fetched = (resource: FetchedResource, data: JsonObject): AircallEnvelope => ({
  resource,
  event: fetchedEventName(resource),
  timestamp: fetchedTimestamp(resource, data),
  token: undefined,
  data,
});

/** A finished call as the API answers it now: its final data, with a tag webhooks never brought, a fresh link. */
const apiCall = (signature: string): AircallEnvelope => {
  const ended = sample('captured-outbound-call.ended');
  return fetched('call', {
    ...ended.data,
    tags: [{ id: 7, name: 'from the api' }],
    recording: `https://production-pdx-555773567328-web.s3.us-west-2.amazonaws.com/r.mp3?X-Amz-Signature=${signature}`,
  });
};

const run = async (deliveries: readonly AircallEnvelope[]) => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  let receivedAt = 1_700_000_000_000;
  for (const envelope of deliveries) {
    receivedAt += 1000;
    await persistEvent(
      { envelope, account: 'acme', receivedAt },
      { events, state, retentionDays: 0, timestampMarginSeconds: 300 },
    );
  }
  return { state: state.tables, rows: events.rows.size };
};

/** Each item delivered one to three times, in any order. */
const shuffledCopies = <T>(items: readonly T[]) =>
  fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: items.length, maxLength: items.length })
    .chain((copies) => {
      const all = items.flatMap((item, i) => Array.from({ length: copies[i] ?? 1 }, () => item));
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    });

const callEvents = (lifecycle: readonly AircallEnvelope[]) => lifecycle.filter((e) => e.resource === 'call');

describe('fetched objects among webhook deliveries', () => {
  it('never replace the call a complete webhook lifecycle brought, in any order, read any number of times', async () => {
    const lifecycle = callEvents(outboundLifecycle());
    const expected = (await run(lifecycle)).state.calls.get(CALL_ID);
    await fc.assert(
      fc.asyncProperty(shuffledCopies([...lifecycle, apiCall('a'), apiCall('b')]), async (deliveries) => {
        const { state } = await run(deliveries);
        expect(state.calls.get(CALL_ID)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('complete a call whose only deliveries were provisional, whatever their order', async () => {
    const live = callEvents(outboundLifecycle()).filter((e) =>
      ['call.created', 'call.answered', 'call.hungup'].includes(e.event),
    );
    await fc.assert(
      fc.asyncProperty(shuffledCopies([...live, apiCall('a')]), async (deliveries) => {
        const call = (await run(deliveries)).state.calls.get(CALL_ID);
        expect(call).toMatchObject({ last_event: 'call.fetched', status: 'done', duration: 20 });
        expect(call?.tags).toEqual([{ id: 7, name: 'from the api' }]);
      }),
      { numRuns: 100 },
    );
  });

  it('store a call read twice, its links signed anew, as one event that changes nothing the second time', async () => {
    const first = await run([apiCall('a')]);
    const twice = await run([apiCall('a'), apiCall('b')]);
    expect(twice.rows).toBe(first.rows);
    expect(twice.state.calls.get(CALL_ID)).toEqual(first.state.calls.get(CALL_ID));
  });

  it('fill in a user no webhook brought, and never replace one a later webhook event brought', async () => {
    const connected = sample('captured-user.connected');
    const api = fetched('user', { ...connected.data, created_at: '2020-01-01T00:00:00Z', name: 'Renamed' });
    expect((await run([api])).state.users.get(Number(connected.data.id))).toMatchObject({ name: 'Renamed' });

    const expected = (await run([connected])).state.users.get(Number(connected.data.id));
    await fc.assert(
      fc.asyncProperty(shuffledCopies([connected, api]), async (deliveries) => {
        expect((await run(deliveries)).state.users.get(Number(connected.data.id))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('marks the event-log row of a fetched object as coming from the API, and a webhook row not at all', () => {
    const queued = (envelope: AircallEnvelope) => ({
      envelope,
      account: 'acme',
      receivedAt: 1_700_000_000_000,
    });
    expect(toEventRecord(queued(apiCall('a')), 'd', 0).attributes).toMatchObject({
      event: 'call.fetched',
      source: 'api',
    });
    expect(
      toEventRecord(queued(sample('captured-outbound-call.ended')), 'd', 0).attributes.source,
    ).toBeUndefined();
  });
});
