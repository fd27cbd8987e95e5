// The company's roster on the simulator's Public API: GET /v1/users, /v1/numbers and /v1/contacts, paged as Aircall pages.

import { afterEach, describe, expect, it } from 'vitest';
import { isJsonObject, type JsonObject } from '../../simulator/json.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { type ApiAnswer, basic, callApi } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-token' };
const AUTH = basic(ACME.apiId, ACME.apiToken);
const START_TIME = 1_700_000_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/;

let simulator: Simulator | undefined;
const start = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  simulator = await startSimulator({
    companies: [ACME, GLOBEX],
    seed: 3,
    startTime: START_TIME,
    now: () => (START_TIME + 3600) * 1000,
    ...options,
  });
  return simulator;
};
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

const itemsOf = (answer: ApiAnswer, collection: string): JsonObject[] => {
  const items = answer.json[collection];
  if (answer.status !== 200 || !Array.isArray(items)) throw new Error(`no ${collection} in ${answer.text}`);
  return items.filter(isJsonObject);
};

/** Every item of a listing, following next_page_link, and the meta of each page. */
const readAll = async (sim: Simulator, collection: string, query: string) => {
  const items: JsonObject[] = [];
  const metas: unknown[] = [];
  let link: string | null = `/${collection}?${query}`;
  while (link !== null) {
    const answer = await callApi(sim, link, { authorization: AUTH });
    items.push(...itemsOf(answer, collection));
    const { meta } = answer.json;
    if (!isJsonObject(meta)) throw new Error(answer.text);
    metas.push(meta);
    link = typeof meta.next_page_link === 'string' ? meta.next_page_link : null;
  }
  return { items, metas };
};

describe('simulator GET /v1/users', () => {
  it("lists the company's agents shaped like Aircall's user object, paged with meta", async () => {
    const sim = await start({ roster: { agents: 5 } });
    const { items, metas } = await readAll(sim, 'users', 'per_page=2');

    expect(items.map((u) => u.id)).toEqual(sim.company('acme').traffic.agents.map((a) => a.id));
    expect(metas).toHaveLength(3);
    expect(metas[0]).toEqual({
      count: 2,
      total: 5,
      current_page: 1,
      per_page: 2,
      next_page_link: `${sim.apiUrl}/users?page=2&per_page=2`,
      previous_page_link: null,
    });
    expect(metas[2]).toMatchObject({ count: 1, next_page_link: null });
    for (const user of items) {
      expect(user).toMatchObject({
        id: expect.any(Number),
        direct_link: `https://api.aircall.io/v1/users/${String(user.id)}`,
        name: expect.any(String),
        email: expect.stringContaining('@'),
        available: expect.any(Boolean),
        availability_status: expect.any(String),
        language: 'en-US',
        created_at: expect.stringMatching(ISO),
      });
      expect(Date.parse(String(user.created_at)) / 1000).toBeLessThan(START_TIME);
    }
  });

  it('shows each agent as its status events left it, and lists in reverse with order=desc', async () => {
    const sim = await start();
    const events = sim.generate(10, 'acme').filter((e) => e.resource === 'user' && !e.event.endsWith('.v2'));
    const latest = new Map(events.map((e) => [e.data.id, e.data.available]));
    const users = itemsOf(await callApi(sim, '/users', { authorization: AUTH }), 'users');
    for (const user of users) if (latest.has(user.id)) expect(user.available).toBe(latest.get(user.id));
    const reversed = itemsOf(await callApi(sim, '/users?order=desc', { authorization: AUTH }), 'users');
    expect(reversed.map((u) => u.id)).toEqual(users.map((u) => u.id).reverse());
  });
});

describe('simulator GET /v1/numbers', () => {
  it("lists the company's numbers shaped like Aircall's number object", async () => {
    const sim = await start({ roster: { numbers: 3 } });
    const { items } = await readAll(sim, 'numbers', 'per_page=2');
    expect(items.map((n) => n.id)).toEqual(sim.company('acme').traffic.numbers.map((n) => n.id));
    for (const number of items) {
      expect(number).toMatchObject({
        id: expect.any(Number),
        name: expect.any(String),
        digits: expect.stringMatching(/^\+\d/),
        country: expect.stringMatching(/^[A-Z]{2}$/),
        time_zone: expect.stringContaining('/'),
        open: true,
        availability_status: 'open',
        is_ivr: false,
        created_at: expect.stringMatching(ISO),
      });
    }
    const globex = itemsOf(
      await callApi(sim, '/numbers', { authorization: basic(GLOBEX.apiId, GLOBEX.apiToken) }),
      'numbers',
    );
    expect(globex.map((n) => n.id)).not.toContain(items[0]?.id);
  });
});

describe('simulator GET /v1/contacts', () => {
  it('lists the shared contacts that calls come from, with integer times, by created_at by default', async () => {
    const sim = await start({ roster: { contacts: 9 } });
    const { items, metas } = await readAll(sim, 'contacts', 'per_page=4');
    expect(items).toHaveLength(9);
    expect(metas).toHaveLength(3);
    const created = items.map((c) => Number(c.created_at));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    for (const contact of items) {
      expect(contact).toMatchObject({
        id: expect.any(Number),
        first_name: expect.any(String),
        last_name: expect.any(String),
        company_name: expect.any(String),
        is_shared: true,
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
        emails: expect.any(Array),
        phone_numbers: [expect.objectContaining({ value: expect.stringMatching(/^\+44 7/) })],
      });
    }
    // The callers of generated calls are among them.
    const called = sim
      .generate(20, 'acme')
      .flatMap((e) => (isJsonObject(e.data.contact) ? [e.data.contact.id] : []));
    expect(called.length).toBeGreaterThan(0);
    for (const id of called) expect(items.map((c) => c.id)).toContain(id);
  });

  it('orders by updated_at or created_at, ascending or descending, and refuses another order_by', async () => {
    const sim = await start();
    const byCreated = itemsOf(
      await callApi(sim, '/contacts?order_by=created_at&order=desc', { authorization: AUTH }),
      'contacts',
    );
    const created = byCreated.map((c) => Number(c.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const byUpdated = itemsOf(
      await callApi(sim, '/contacts?order_by=updated_at', { authorization: AUTH }),
      'contacts',
    );
    const updated = byUpdated.map((c) => Number(c.updated_at));
    expect(updated).toEqual([...updated].sort((a, b) => a - b));
    expect((await callApi(sim, '/contacts?order_by=name', { authorization: AUTH })).status).toBe(400);
  });

  it('lists the same roster for the same seed and start time', async () => {
    const first = await start();
    const lists = async (sim: Simulator) =>
      Promise.all(
        ['users', 'numbers', 'contacts'].map((c) => callApi(sim, `/${c}`, { authorization: AUTH })),
      );
    const before = (await lists(first)).map((a) => a.json);
    await first.stop();
    const second = await start();
    const after = (await lists(second)).map((a) => a.json);
    const withoutLinks = (bodies: JsonObject[]) => bodies.map((b) => Object.values(b)[0]);
    expect(withoutLinks(after)).toEqual(withoutLinks(before));
  });
});
