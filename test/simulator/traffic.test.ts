// Generated traffic: deterministic, shaped like the captured Aircall samples, in lifecycle order by timestamp.

import { describe, expect, it } from 'vitest';
import type { GeneratedEvent } from '../../simulator/envelope.js';
import { isJsonObject } from '../../simulator/json.js';
import { CALL_KINDS, createTrafficGenerator } from '../../simulator/traffic.js';

const START = 1_700_000_000;
const generator = (seed = 7) => createTrafficGenerator({ account: 'acme', seed, startTime: START });

const byCall = (events: readonly GeneratedEvent[]): Map<number, GeneratedEvent[]> => {
  const calls = new Map<number, GeneratedEvent[]>();
  for (const event of events) {
    if (event.resource !== 'call') continue;
    const id = Number(event.data.id);
    calls.set(id, [...(calls.get(id) ?? []), event]);
  }
  return calls;
};

const timestampOf = (events: readonly GeneratedEvent[], name: string): number | undefined =>
  events.find((e) => e.event === name)?.timestamp;

/** The event's own timestamp and every time its call data carries, comments' included. */
const timesOf = (event: GeneratedEvent): number[] => {
  const { started_at, answered_at, ended_at, comments } = event.data;
  const posted = Array.isArray(comments) ? comments.map((c) => (isJsonObject(c) ? c.posted_at : null)) : [];
  return [event.timestamp, started_at, answered_at, ended_at, ...posted].filter(
    (t): t is number => typeof t === 'number',
  );
};
const latest = (events: readonly GeneratedEvent[]): number => Math.max(...events.flatMap(timesOf));

describe('traffic generator', () => {
  it('generates the same payloads for the same seed and start, others for another seed', () => {
    expect(generator().generate(20)).toEqual(generator().generate(20));
    expect(generator(8).generate(20)).not.toEqual(generator().generate(20));
  });

  it('gives every event a distinct key and a SHA-256 digest', () => {
    const events = generator().generate(200);
    expect(new Set(events.map((e) => e.key)).size).toBe(events.length);
    for (const event of events) {
      expect(event.key).toBe(`${event.resource}#${String(event.data.id)}#${event.timestamp}#${event.event}`);
      expect(event.digest).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('sorts a batch by timestamp, in UNIX seconds, with call ids above 2^31', () => {
    const events = generator().generate(50);
    const timestamps = events.map((e) => e.timestamp);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    for (const t of timestamps) expect(t).toBeGreaterThanOrEqual(START);
    for (const t of timestamps) expect(t).toBeLessThan(10_000_000_000);
    for (const id of byCall(events).keys()) expect(id).toBeGreaterThan(2 ** 31);
  });

  it('opens every call with call.created and ends it with call.ended at least 30 s after call.hungup', () => {
    const calls = byCall(generator().generate(200));
    expect(calls.size).toBe(200);
    for (const events of calls.values()) {
      expect(events[0]?.event).toBe('call.created');
      const ended = timestampOf(events, 'call.ended');
      expect(ended).toBeDefined();
      const hungup = timestampOf(events, 'call.hungup');
      if (hungup !== undefined) expect(ended).toBeGreaterThanOrEqual(hungup + 30);
      const final = events.find((e) => e.event === 'call.ended')?.data;
      expect(final).toMatchObject({
        status: 'done',
        ended_at: expect.any(Number),
        duration: expect.any(Number),
      });
    }
  });

  it('puts call.tagged and call.commented after call.ended, with the tags and comments in data', () => {
    const calls = byCall(generator().generate(200));
    let tagged = 0;
    for (const events of calls.values()) {
      const ended = timestampOf(events, 'call.ended') ?? Number.POSITIVE_INFINITY;
      for (const event of events.filter((e) => e.event === 'call.tagged' || e.event === 'call.commented')) {
        expect(event.timestamp).toBeGreaterThan(ended);
        const list = event.event === 'call.tagged' ? event.data.tags : event.data.comments;
        expect(Array.isArray(list) && list.length > 0).toBe(true);
        tagged += 1;
      }
    }
    expect(tagged).toBeGreaterThan(0);
  });

  it('leaves user out of missed calls and gives them a missed_call_reason', () => {
    const traffic = generator();
    for (let i = 0; i < 20; i += 1) {
      const events = traffic.call('inbound_missed');
      for (const event of events) {
        expect(event.data).not.toHaveProperty('user');
        expect(event.data.answered_at).toBeNull();
      }
      expect(events.at(-1)?.data.missed_call_reason).toEqual(expect.any(String));
    }
  });

  it('sends call.voicemail_left with a short-lived presigned voicemail link', () => {
    const events = generator().call('inbound_voicemail');
    const left = events.find((e) => e.event === 'call.voicemail_left');
    expect(String(left?.data.voicemail)).toMatch(
      /^http:\/\/127\.0\.0\.1\/media\/acme\/\d+\/voicemail\.mp3\?.*X-Amz-Expires=600.*X-Amz-Signature=sim-[0-9a-f]{64}$/,
    );
    expect(left?.data.asset).toMatch(/\/voicemail$/);
    expect(events.find((e) => e.event === 'call.ended')?.data.missed_call_reason).toBe(
      'agents_did_not_answer',
    );
  });

  it('moves a transferred call to another agent with transferred_by and transferred_to', () => {
    const events = generator().call('inbound_transferred');
    const transferred = events.find((e) => e.event === 'call.transferred')?.data;
    expect(isJsonObject(transferred?.transferred_by) && isJsonObject(transferred?.transferred_to)).toBe(true);
    const ended = events.find((e) => e.event === 'call.ended')?.data;
    expect(ended?.user).toEqual(transferred?.transferred_to);
    expect(ended?.user).not.toEqual(transferred?.transferred_by);
  });

  it('shapes answered calls like the captured samples', () => {
    const traffic = generator();
    for (const kind of CALL_KINDS) {
      const events = traffic.call(kind);
      const ended = events.find((e) => e.event === 'call.ended')?.data ?? {};
      for (const field of [
        'id',
        'direct_link',
        'direction',
        'status',
        'started_at',
        'ended_at',
        'duration',
        'cost',
      ]) {
        expect(ended).toHaveProperty(field);
      }
      expect(ended).toHaveProperty('number.digits');
      if (kind !== 'inbound_missed' && kind !== 'inbound_voicemail') {
        expect(ended.answered_at).toEqual(expect.any(Number));
        expect(ended).toHaveProperty('user.availability_status');
      }
    }
  });

  it('moves a batch back so that no event or call time is later than notAfter, its last event on it', () => {
    const events = generator().generate(40, { notBefore: START, notAfter: START });
    expect(byCall(events).size).toBe(40);
    expect(latest(events)).toBe(START);
    for (const event of events)
      for (const t of timesOf(event)) expect(t).toBeLessThanOrEqual(event.timestamp);
    for (const [, calls] of byCall(events)) expect(calls[0]?.data.started_at).toBeLessThan(START);
  });

  it('moves every call of a batch back by the same amount, keeping its spacing', () => {
    const ahead = byCall(generator().generate(20));
    const placed = byCall(generator().generate(20, { notAfter: START }));
    expect([...placed.keys()]).toEqual([...ahead.keys()]);
    const shifts = new Set<number>();
    for (const [id, events] of placed) {
      const unmoved = ahead.get(id) ?? [];
      expect(events.map((e) => e.event)).toEqual(unmoved.map((e) => e.event));
      events.forEach((e, i) => {
        shifts.add((unmoved[i]?.timestamp ?? 0) - e.timestamp);
        shifts.add(Number(unmoved[i]?.data.started_at) - Number(e.data.started_at));
      });
    }
    expect(shifts.size).toBe(1);
    expect([...shifts][0]).toBeGreaterThan(0);
  });

  it('leaves a batch where it is when it already ends before notAfter', () => {
    expect(generator().generate(20, { notAfter: START + 86_400 })).toEqual(generator().generate(20));
  });

  it('places the same events for the same seed and clock readings', () => {
    const run = (): GeneratedEvent[] => {
      const traffic = generator();
      return [0, 1, 90].flatMap((seconds) =>
        traffic.generate(10, { notBefore: START + seconds, notAfter: START + seconds }),
      );
    };
    expect(run()).toEqual(run());
  });

  it('keeps a batch generated after another, at the same clock reading, at or before it too', () => {
    const traffic = generator();
    const first = traffic.generate(10, { notBefore: START, notAfter: START });
    const second = traffic.generate(10, { notBefore: START, notAfter: START });
    expect(latest([...first, ...second])).toBe(START);
    const keys = [...first, ...second].map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('moves a lone call back so that it has ended by notAfter', () => {
    const traffic = generator();
    for (const kind of CALL_KINDS) {
      const events = traffic.call(kind, { notBefore: START, notAfter: START });
      expect(latest(events)).toBe(START);
      expect(events.find((e) => e.event === 'call.ended')?.data.started_at).toBeLessThan(START);
    }
  });

  it('sends no agent status change later than notAfter, and none for an agent that just changed', () => {
    const traffic = generator();
    const changes = Array.from({ length: 30 }, () => traffic.agentStatus({ notAfter: START }));
    for (const event of changes.flat()) expect(event.timestamp).toBeLessThanOrEqual(START);
    expect(changes.filter((events) => events.length === 0).length).toBeGreaterThan(0);
    // Each agent changes at most once in the one second left to it.
    expect(new Set(changes.flat().map((e) => e.data.id)).size).toBe(changes.flat().length / 2);
  });

  it('sends agent status events with availability, V1 with numbers and V2 without', () => {
    const traffic = generator();
    const events = Array.from({ length: 30 }, () => traffic.agentStatus()).flat();
    const names = new Set(events.map((e) => e.event));
    for (const name of ['user.connected', 'user.opened', 'user.closed', 'user.connected.v2']) {
      expect(names).toContain(name);
    }
    for (const event of events) {
      expect(event.resource).toBe('user');
      expect(typeof event.data.available).toBe('boolean');
      expect(event.data.availability_status).toEqual(expect.any(String));
      if (event.event.endsWith('.v2')) expect(event.data).not.toHaveProperty('numbers');
      else expect(Array.isArray(event.data.numbers)).toBe(true);
    }
    const closed = events.find((e) => e.event === 'user.closed');
    expect(closed?.data).toMatchObject({ available: false, availability_status: 'unavailable' });
  });

  it('makes finished calls for history, started evenly over [from, to] with both ends, and no events', () => {
    const traffic = generator();
    const history = traffic.history(5, START - 100, START);

    expect(history.map((c) => c.data.started_at)).toEqual([
      START - 100,
      START - 75,
      START - 50,
      START - 25,
      START,
    ]);
    expect(new Set(history.map((c) => c.data.id)).size).toBe(5);
    for (const { timestamp, data } of history) {
      expect(data.status).toBe('done');
      expect(data.duration).toBe(Number(data.ended_at) - Number(data.started_at));
      expect(timestamp).toBeGreaterThanOrEqual(Number(data.ended_at));
      for (const kind of ['recording', 'voicemail'] as const) {
        if (typeof data[kind] !== 'string') continue;
        expect(data.asset).toBe(`https://assets.aircall.io/calls/${String(data.id)}/${kind}`);
        expect(new URL(String(data[kind])).pathname).toBe(`/media/acme/${String(data.id)}/${kind}.mp3`);
      }
    }
    expect(traffic.history(1, START, START).map((c) => c.data.started_at)).toEqual([START]);
    expect(generator().history(5, START - 100, START)).toEqual(history);
  });

  it('lists its shared contacts, the callers its calls carry', () => {
    const traffic = createTrafficGenerator({ account: 'acme', seed: 7, startTime: START, contacts: 3 });
    expect(traffic.contacts).toHaveLength(3);
    const ids = traffic.contacts.map((c) => c.id);
    const callers = traffic
      .generate(30)
      .flatMap((e) => (isJsonObject(e.data.contact) ? [e.data.contact.id] : []));
    expect(callers.length).toBeGreaterThan(0);
    for (const id of callers) expect(ids).toContain(id);
  });
});
