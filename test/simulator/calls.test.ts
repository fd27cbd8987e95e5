// The simulator's record of every call: GET /v1/calls with its filters, order, paging and 10,000-result cap, and seeded history.

import { afterEach, describe, expect, it } from 'vitest';
import { RESULT_WINDOW_ERROR } from '../../simulator/api.js';
import { isJsonObject, type JsonObject } from '../../simulator/json.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { type ApiAnswer, basic, callApi } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-token' };
const AUTH = basic(ACME.apiId, ACME.apiToken);
/** A day of history well before the clock, so no generated traffic lands in it. */
const FROM = 1_700_000_000;
const TO = FROM + 86_400;
const NOW_MS = (TO + 30 * 86_400) * 1000;

let simulator: Simulator | undefined;
const start = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  simulator = await startSimulator({ companies: [ACME, GLOBEX], seed: 7, now: () => NOW_MS, ...options });
  return simulator;
};
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

const callsOf = (answer: ApiAnswer): JsonObject[] => {
  const { calls } = answer.json;
  if (answer.status !== 200 || !Array.isArray(calls))
    throw new Error(`no calls in ${answer.status} ${answer.text}`);
  return calls.filter(isJsonObject);
};
const metaOf = (answer: ApiAnswer): JsonObject => {
  const { meta } = answer.json;
  if (!isJsonObject(meta)) throw new Error(`no meta in ${answer.status} ${answer.text}`);
  return meta;
};
const idsOf = (calls: readonly JsonObject[]): number[] => calls.map((c) => Number(c.id));

/** Every call of the listing at `path`, following next_page_link, and the meta of each page. */
const readAll = async (
  sim: Simulator,
  path: string,
): Promise<{ calls: JsonObject[]; metas: JsonObject[] }> => {
  const calls: JsonObject[] = [];
  const metas: JsonObject[] = [];
  let link: string | null = path;
  while (link !== null) {
    const answer = await callApi(sim, link, { authorization: AUTH });
    calls.push(...callsOf(answer));
    const meta = metaOf(answer);
    metas.push(meta);
    link = typeof meta.next_page_link === 'string' ? meta.next_page_link : null;
  }
  return { calls, metas };
};

describe('simulator GET /v1/calls', () => {
  it('pages through a window with next_page_link repeating every filter, null on the last page', async () => {
    const sim = await start();
    const seeded = sim.seedHistory('acme', { calls: 45, from: FROM, to: TO });
    const query = `from=${FROM}&to=${TO}`;

    const { calls, metas } = await readAll(sim, `/calls?${query}&per_page=20`);

    expect(idsOf(calls)).toEqual(seeded);
    expect(metas).toEqual([
      {
        count: 20,
        total: 45,
        current_page: 1,
        per_page: 20,
        next_page_link: `${sim.apiUrl}/calls?page=2&per_page=20&${query}`,
        previous_page_link: null,
      },
      {
        count: 20,
        total: 45,
        current_page: 2,
        per_page: 20,
        next_page_link: `${sim.apiUrl}/calls?page=3&per_page=20&${query}`,
        previous_page_link: `${sim.apiUrl}/calls?page=1&per_page=20&${query}`,
      },
      {
        count: 5,
        total: 45,
        current_page: 3,
        per_page: 20,
        next_page_link: null,
        previous_page_link: `${sim.apiUrl}/calls?page=2&per_page=20&${query}`,
      },
    ]);
  });

  it('includes calls started exactly at from and exactly at to', async () => {
    const sim = await start();
    // Eleven calls ten seconds apart: FROM, FROM + 10, ..., FROM + 100.
    const seeded = sim.seedHistory('acme', { calls: 11, from: FROM, to: FROM + 100 });

    const inclusive = callsOf(
      await callApi(sim, `/calls?from=${FROM + 10}&to=${FROM + 30}`, { authorization: AUTH }),
    );
    expect(inclusive.map((c) => c.started_at)).toEqual([FROM + 10, FROM + 20, FROM + 30]);
    expect(idsOf(inclusive)).toEqual(seeded.slice(1, 4));
    const inside = callsOf(
      await callApi(sim, `/calls?from=${FROM + 11}&to=${FROM + 29}`, { authorization: AUTH }),
    );
    expect(inside.map((c) => c.started_at)).toEqual([FROM + 20]);
    const single = callsOf(await callApi(sim, `/calls?from=${FROM}&to=${FROM}`, { authorization: AUTH }));
    expect(idsOf(single)).toEqual(seeded.slice(0, 1));
  });

  it('orders by started_at then id, ascending by default and descending with order=desc', async () => {
    const sim = await start();
    const spread = sim.seedHistory('acme', { calls: 6, from: FROM, to: FROM + 50 });
    // Calls that share a second are ordered by id.
    const tied = sim.seedHistory('acme', { calls: 4, from: FROM + 25, to: FROM + 25 });
    const expected = [...spread.slice(0, 3), ...tied, ...spread.slice(3)];

    const ascending = await readAll(sim, '/calls?per_page=3');
    expect(idsOf(ascending.calls)).toEqual(expected);
    const descending = await readAll(sim, '/calls?per_page=3&order=desc');
    expect(idsOf(descending.calls)).toEqual([...expected].reverse());
    expect(descending.metas[0]?.next_page_link).toBe(`${sim.apiUrl}/calls?page=2&per_page=3&order=desc`);
  });

  it('answers 20 a page by default and caps per_page at 50', async () => {
    const sim = await start();
    sim.seedHistory('acme', { calls: 60, from: FROM, to: TO });
    expect(metaOf(await callApi(sim, '/calls', { authorization: AUTH }))).toMatchObject({
      count: 20,
      per_page: 20,
    });
    const capped = await callApi(sim, '/calls?per_page=500', { authorization: AUTH });
    expect(metaOf(capped)).toMatchObject({ count: 50, per_page: 50, total: 60 });
    expect(metaOf(capped).next_page_link).toBe(`${sim.apiUrl}/calls?page=2&per_page=50`);
  });

  it('serves page 200 at per_page 50 of a window over 10,000 calls, and refuses page 201 with Aircall 400', async () => {
    const sim = await start();
    const seeded = sim.seedHistory('acme', { calls: 10_050, from: FROM, to: TO });
    const query = `from=${FROM}&to=${TO}&per_page=50`;

    const last = await callApi(sim, `/calls?${query}&page=200`, { authorization: AUTH });
    expect(idsOf(callsOf(last))).toEqual(seeded.slice(9_950, 10_000));
    expect(metaOf(last)).toMatchObject({ count: 50, total: 10_050, current_page: 200 });
    // Aircall still links to the next page; following it is what earns the 400.
    expect(metaOf(last).next_page_link).toBe(
      `${sim.apiUrl}/calls?page=201&per_page=50&from=${FROM}&to=${TO}`,
    );

    const past = await callApi(sim, String(metaOf(last).next_page_link), { authorization: AUTH });
    expect(past.status).toBe(400);
    expect(past.json).toEqual({ error: RESULT_WINDOW_ERROR, troubleshoot: expect.any(String) });
    expect(RESULT_WINDOW_ERROR).toBe(
      'Your query is limited to 10k results and pagination is out of bound, please use timestamps or other filters.',
    );
    // The cap is on the first result's offset, whatever the page size.
    expect((await callApi(sim, '/calls?per_page=20&page=500', { authorization: AUTH })).status).toBe(200);
    expect((await callApi(sim, '/calls?per_page=20&page=501', { authorization: AUTH })).status).toBe(400);
    // A narrower window is read whole.
    const half = await callApi(sim, `/calls?from=${FROM}&to=${FROM + 43_200}&per_page=50&page=1`, {
      authorization: AUTH,
    });
    expect(Number(metaOf(half).total)).toBeLessThan(10_000);
  });

  it('counts every matching call in total, past 10,000', async () => {
    const sim = await start();
    sim.seedHistory('acme', { calls: 12_000, from: FROM, to: TO });
    sim.seedHistory('acme', { calls: 5, from: TO + 1, to: TO + 100 });
    const inWindow = await callApi(sim, `/calls?from=${FROM}&to=${TO}`, { authorization: AUTH });
    expect(metaOf(inWindow)).toMatchObject({ total: 12_000, count: 20 });
    expect(metaOf(await callApi(sim, '/calls', { authorization: AUTH }))).toMatchObject({ total: 12_005 });
    expect(metaOf(await callApi(sim, `/calls?from=${TO + 101}`, { authorization: AUTH }))).toMatchObject({
      total: 0,
      count: 0,
      next_page_link: null,
    });
  });

  it('lists every generated call in its latest state, whether or not anything was delivered', async () => {
    const sim = await start();
    // No webhook: nothing is delivered, and the record has every call all the same.
    const events = sim.generate(12, 'acme');
    const last = new Map<string, JsonObject>();
    for (const event of events) if (event.resource === 'call') last.set(String(event.data.id), event.data);

    const { calls } = await readAll(sim, '/calls?per_page=5');
    expect(calls).toHaveLength(last.size);
    for (const call of calls) {
      const { recording, voicemail, ...rest } = call;
      const { recording: _r, voicemail: _v, call_uuid: _u, ...expected } = last.get(String(call.id)) ?? {};
      expect(rest).toEqual(expected);
      expect(call.status).toBe('done');
    }
    expect(sim.stats().totals.delivered).toBe(0);
  });

  it("keeps each company's calls to itself, and answers 401 without credentials", async () => {
    const sim = await start();
    sim.seedHistory('globex', { calls: 3, from: FROM, to: TO });
    expect(metaOf(await callApi(sim, '/calls', { authorization: AUTH }))).toMatchObject({ total: 0 });
    expect((await callApi(sim, '/calls')).status).toBe(401);
  });

  it('refuses from, to or order it cannot read with 400', async () => {
    const sim = await start();
    for (const query of ['from=yesterday', 'to=2024-01-01', 'order=newest']) {
      const answer = await callApi(sim, `/calls?${query}`, { authorization: AUTH });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: 'Bad Request', troubleshoot: expect.any(String) });
    }
  });

  it('counts toward the rate limit like the other endpoints', async () => {
    const sim = await start({ rateLimitPerMinute: 2 });
    await callApi(sim, '/calls', { authorization: AUTH });
    await callApi(sim, '/calls/1', { authorization: AUTH });
    expect((await callApi(sim, '/calls', { authorization: AUTH })).status).toBe(429);
  });
});

describe('simulator seedHistory', () => {
  it('records finished calls spread over [from, to] and returns their ids, delivering nothing', async () => {
    const sim = await start();
    const webhook = sim.company('acme').createWebhook({ url: 'http://127.0.0.1:9/never' });
    const ids = sim.seedHistory('acme', { calls: 10_001, from: FROM, to: TO });

    expect(ids).toHaveLength(10_001);
    expect(new Set(ids).size).toBe(10_001);
    const first = callsOf(await callApi(sim, `/calls?per_page=1`, { authorization: AUTH }))[0];
    const last = callsOf(await callApi(sim, `/calls?per_page=1&order=desc`, { authorization: AUTH }))[0];
    expect(first).toMatchObject({ id: ids[0], started_at: FROM, status: 'done' });
    expect(last).toMatchObject({ id: ids.at(-1), started_at: TO, status: 'done' });
    expect(Number(last?.ended_at)).toBeGreaterThan(TO);
    expect(Number(last?.duration)).toBeGreaterThan(0);
    expect(sim.stats()).toMatchObject({ generatedEvents: 0, queuedDeliveries: 0 });
    expect(sim.stats().webhooks).toEqual([
      expect.objectContaining({ webhookId: webhook.webhookId, attempts: 0 }),
    ]);
  });

  it('answers GET /v1/calls/:id for a seeded call and serves its recording from a fresh link', async () => {
    const sim = await start();
    const ids = sim.seedHistory('acme', { calls: 40, from: FROM, to: TO });
    const { calls } = await readAll(sim, '/calls?per_page=50');
    const recorded = calls.find((c) => typeof c.recording === 'string');
    if (recorded === undefined) throw new Error('no seeded call has a recording');
    expect(ids).toContain(recorded.id);

    const answer = await callApi(sim, `/calls/${String(recorded.id)}`, { authorization: AUTH });
    const { call } = answer.json;
    if (!isJsonObject(call)) throw new Error(`no call in ${answer.text}`);
    const { recording: _fresh, ...shown } = call;
    const { recording: _listed, ...expected } = recorded;
    expect(shown).toEqual(expected);
    expect(Object.keys(call)).not.toContain('call_uuid');
    const served = await fetch(String(recorded.recording));
    expect(served.status).toBe(200);
    expect((await served.arrayBuffer()).byteLength).toBe(
      sim.mediaBytes('acme', Number(recorded.id), 'recording').length,
    );
  });

  it('gives the same calls for the same seed and the same window', async () => {
    const first = await start();
    const ids = first.seedHistory('acme', { calls: 30, from: FROM, to: TO });
    const listed = await readAll(first, '/calls?per_page=50');
    await first.stop();

    const second = await start();
    expect(second.seedHistory('acme', { calls: 30, from: FROM, to: TO })).toEqual(ids);
    const again = await readAll(second, '/calls?per_page=50');
    const withoutLinks = (calls: JsonObject[]) =>
      calls.map(({ recording: _r, voicemail: _v, ...rest }) => rest);
    expect(withoutLinks(again.calls)).toEqual(withoutLinks(listed.calls));
  });

  it('refuses a window that ends before it starts', async () => {
    const sim = await start();
    expect(() => sim.seedHistory('acme', { calls: 1, from: TO, to: FROM })).toThrow(/from <= to/);
  });
});
