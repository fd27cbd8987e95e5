// The simulator's Aircall Public API for webhooks: auth, CRUD, pagination, limits and the PUT pitfall.

import { afterEach, describe, expect, it } from 'vitest';
import { ALL_EVENTS } from '../../simulator/events.js';
import { isJsonObject } from '../../simulator/json.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { basic, callApi, webhookOf } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token', accessToken: 'acme-oauth' };
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-token' };
const AUTH = basic(ACME.apiId, ACME.apiToken);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let simulator: Simulator | undefined;
/** These tests stand for a deployed receiver with example.com URLs, so remote delivery is allowed unless told. */
const start = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  simulator = await startSimulator({ companies: [ACME, GLOBEX], allowRemoteDelivery: true, ...options });
  return simulator;
};
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe('simulator API authentication', () => {
  it('answers ping with Basic api_id:api_token', async () => {
    const sim = await start();
    const answer = await callApi(sim, '/ping', { authorization: AUTH });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ping: 'pong' });
  });

  it('answers ping with a Bearer access token', async () => {
    const sim = await start();
    const answer = await callApi(sim, '/ping', { authorization: `Bearer ${ACME.accessToken}` });
    expect(answer.status).toBe(200);
  });

  it('answers 401 with error and troubleshoot to wrong or missing credentials', async () => {
    const sim = await start();
    for (const authorization of [basic(ACME.apiId, 'wrong'), 'Bearer nope', undefined]) {
      const answer = await callApi(sim, '/webhooks', authorization === undefined ? {} : { authorization });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: expect.any(String), troubleshoot: expect.any(String) });
    }
  });
});

describe('simulator API webhook creation', () => {
  it('creates a webhook with a fresh token, a UUID and the defaults', async () => {
    const sim = await start();
    const answer = await callApi(sim, '/webhooks', {
      method: 'POST',
      authorization: AUTH,
      body: { url: 'https://example.com/hook' },
    });
    expect(answer.status).toBe(201);
    const webhook = webhookOf(answer);
    expect(webhook.webhook_id).toMatch(UUID);
    expect(webhook.token).toMatch(/^[0-9a-f]{32}$/);
    expect(webhook).toMatchObject({
      url: 'https://example.com/hook',
      custom_name: 'Webhook',
      active: true,
      events: [...ALL_EVENTS],
      direct_link: `${sim.apiUrl}/webhooks/${String(webhook.webhook_id)}`,
    });
    expect(new Date(String(webhook.created_at)).toISOString()).toBe(webhook.created_at);
    const again = webhookOf(
      await callApi(sim, '/webhooks', {
        method: 'POST',
        authorization: AUTH,
        body: { url: 'https://e.com/2' },
      }),
    );
    expect(again.token).not.toBe(webhook.token);
  });

  it('keeps the given custom name and events', async () => {
    const sim = await start();
    const webhook = webhookOf(
      await callApi(sim, '/webhooks', {
        method: 'POST',
        authorization: AUTH,
        body: { url: 'http://127.0.0.1:1/x', custom_name: 'calls', events: ['call.ended', 'call.hungup'] },
      }),
    );
    expect(webhook).toMatchObject({ custom_name: 'calls', events: ['call.ended', 'call.hungup'] });
  });

  it('refuses a missing or non-http url with 400', async () => {
    const sim = await start();
    for (const body of [{}, { url: 'ftp://example.com/x' }, { url: 'not a url' }, { url: 42 }]) {
      const answer = await callApi(sim, '/webhooks', { method: 'POST', authorization: AUTH, body });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: expect.any(String), troubleshoot: expect.any(String) });
    }
  });

  it('refuses an unknown event name with 400', async () => {
    const sim = await start();
    const answer = await callApi(sim, '/webhooks', {
      method: 'POST',
      authorization: AUTH,
      body: { url: 'https://example.com/hook', events: ['call.ended', 'call.exploded'] },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.troubleshoot).toContain('call.exploded');
  });

  it('refuses a 101st webhook with 400', async () => {
    const sim = await start();
    for (let i = 0; i < 100; i += 1) sim.company('acme').createWebhook({ url: `https://example.com/${i}` });
    const answer = await callApi(sim, '/webhooks', {
      method: 'POST',
      authorization: AUTH,
      body: { url: 'https://example.com/one-too-many' },
    });
    expect(answer.status).toBe(400);
    expect(sim.company('acme').webhooks()).toHaveLength(100);
  });
});

describe('simulator API webhook list', () => {
  it('pages with meta and full next_page_link URLs until the last page', async () => {
    const sim = await start();
    const created = Array.from(
      { length: 45 },
      (_, i) => sim.company('acme').createWebhook({ url: `https://example.com/${i}` }).webhookId,
    );
    let link: string | null = `${sim.apiUrl}/webhooks?per_page=20`;
    const seen: string[] = [];
    const metas: unknown[] = [];
    while (link !== null) {
      const answer = await callApi(sim, link, { authorization: AUTH });
      const { webhooks, meta } = answer.json;
      if (!Array.isArray(webhooks) || !isJsonObject(meta)) throw new Error(answer.text);
      for (const webhook of webhooks) if (isJsonObject(webhook)) seen.push(String(webhook.webhook_id));
      metas.push(meta);
      link = typeof meta.next_page_link === 'string' ? meta.next_page_link : null;
    }
    expect(seen).toEqual(created);
    expect(metas).toEqual([
      {
        count: 20,
        total: 45,
        current_page: 1,
        per_page: 20,
        next_page_link: `${sim.apiUrl}/webhooks?page=2&per_page=20`,
        previous_page_link: null,
      },
      {
        count: 20,
        total: 45,
        current_page: 2,
        per_page: 20,
        next_page_link: `${sim.apiUrl}/webhooks?page=3&per_page=20`,
        previous_page_link: `${sim.apiUrl}/webhooks?page=1&per_page=20`,
      },
      {
        count: 5,
        total: 45,
        current_page: 3,
        per_page: 20,
        next_page_link: null,
        previous_page_link: `${sim.apiUrl}/webhooks?page=2&per_page=20`,
      },
    ]);
  });

  it('defaults to 20 a page and caps per_page at 50', async () => {
    const sim = await start();
    for (let i = 0; i < 60; i += 1) sim.company('acme').createWebhook({ url: `https://example.com/${i}` });
    const byDefault = await callApi(sim, '/webhooks', { authorization: AUTH });
    const capped = await callApi(sim, '/webhooks?per_page=500', { authorization: AUTH });
    expect(byDefault.json.meta).toMatchObject({ count: 20, per_page: 20, total: 60 });
    expect(capped.json.meta).toMatchObject({ count: 50, per_page: 50, total: 60 });
  });
});

describe('simulator API webhook update and delete', () => {
  const createCallsOnly = async (sim: Simulator): Promise<string> =>
    String(
      webhookOf(
        await callApi(sim, '/webhooks', {
          method: 'POST',
          authorization: AUTH,
          body: { url: 'https://example.com/hook', events: ['call.ended'] },
        }),
      ).webhook_id,
    );

  it('resets the events to all events on a PUT without events', async () => {
    const sim = await start();
    const id = await createCallsOnly(sim);
    const answer = await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: false },
    });
    expect(answer.status).toBe(200);
    expect(webhookOf(answer)).toMatchObject({ active: false, events: [...ALL_EVENTS] });
  });

  it('keeps the events on a PUT that lists them', async () => {
    const sim = await start();
    const id = await createCallsOnly(sim);
    const answer = await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: false, events: ['call.ended'], custom_name: 'renamed' },
    });
    expect(webhookOf(answer)).toMatchObject({
      active: false,
      events: ['call.ended'],
      custom_name: 'renamed',
    });
    const read = await callApi(sim, `/webhooks/${id}`, { authorization: AUTH });
    expect(webhookOf(read)).toMatchObject({ active: false, events: ['call.ended'] });
  });

  it('merges events with events_action=add and keeps them when it has none', async () => {
    const sim = await start();
    const id = await createCallsOnly(sim);
    const merged = await callApi(sim, `/webhooks/${id}?events_action=add`, {
      method: 'PUT',
      authorization: AUTH,
      body: { events: ['call.hungup'] },
    });
    expect(webhookOf(merged).events).toEqual(['call.ended', 'call.hungup']);
    const kept = await callApi(sim, `/webhooks/${id}?events_action=add`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: true },
    });
    expect(webhookOf(kept).events).toEqual(['call.ended', 'call.hungup']);
  });

  it('keeps the events on a PUT without events when the reset is turned off', async () => {
    const sim = await start({ resetEventsOnPutWithoutEvents: false });
    const id = await createCallsOnly(sim);
    const answer = await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: false },
    });
    expect(webhookOf(answer)).toMatchObject({ active: false, events: ['call.ended'] });
  });

  it('answers with is_active instead of active when told to, and takes it on PUT', async () => {
    const sim = await start({ activeFieldName: 'is_active' });
    const id = await createCallsOnly(sim);
    const answer = await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { is_active: false, events: ['call.ended'] },
    });
    const webhook = webhookOf(answer);
    expect(webhook.is_active).toBe(false);
    expect(webhook).not.toHaveProperty('active');
  });

  it('deletes with 204 and no body, then answers 404', async () => {
    const sim = await start();
    const id = await createCallsOnly(sim);
    const deleted = await callApi(sim, `/webhooks/${id}`, { method: 'DELETE', authorization: AUTH });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const read = await callApi(sim, `/webhooks/${id}`, { authorization: AUTH });
    expect(read.status).toBe(404);
  });

  it("hides a company's webhooks from another company: 404 on get, put and delete", async () => {
    const sim = await start();
    const id = await createCallsOnly(sim);
    const other = basic(GLOBEX.apiId, GLOBEX.apiToken);
    const list = await callApi(sim, '/webhooks', { authorization: other });
    expect(list.json.webhooks).toEqual([]);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await callApi(sim, `/webhooks/${id}`, {
        method,
        authorization: other,
        ...(method === 'PUT' ? { body: { active: false } } : {}),
      });
      expect(answer.status).toBe(404);
    }
    expect(webhookOf(await callApi(sim, `/webhooks/${id}`, { authorization: AUTH }))).toMatchObject({
      active: true,
      events: ['call.ended'],
    });
  });
});

describe('simulator API rate limit', () => {
  it('counts down in the headers and answers 429 past the limit, reset in UNIX seconds', async () => {
    const sim = await start({ rateLimitPerMinute: 3 });
    const before = Date.now();
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await callApi(sim, '/ping', { authorization: AUTH }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('x-aircallapi-remaining'))).toEqual(['2', '1', '0', '0']);
    const last = answers[3];
    expect(last?.headers.get('x-aircallapi-limit')).toBe('3');
    expect(last?.headers.get('retry-after')).toBeNull();
    expect(last?.json).toEqual({ error: expect.any(String), troubleshoot: expect.any(String) });
    const reset = Number(last?.headers.get('x-aircallapi-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 59);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 61);
  });

  it('sends the reset in UNIX milliseconds when told to', async () => {
    const sim = await start({ rateLimitPerMinute: 1, resetUnit: 'milliseconds' });
    const before = Date.now();
    await callApi(sim, '/ping', { authorization: AUTH });
    const refused = await callApi(sim, '/ping', { authorization: AUTH });
    expect(refused.status).toBe(429);
    const reset = Number(refused.headers.get('x-aircallapi-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 60_000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('counts each company on its own', async () => {
    const sim = await start({ rateLimitPerMinute: 1 });
    await callApi(sim, '/ping', { authorization: AUTH });
    const other = await callApi(sim, '/ping', { authorization: basic(GLOBEX.apiId, GLOBEX.apiToken) });
    expect(other.status).toBe(200);
  });
});

describe('simulator API delivery targets', () => {
  const create = (sim: Simulator, url: string) =>
    callApi(sim, '/webhooks', { method: 'POST', authorization: AUTH, body: { url } });

  it("refuses a webhook URL outside this machine with Aircall's 400, and creates nothing", async () => {
    const sim = await start({ allowRemoteDelivery: false });
    for (const url of [
      'https://example.com/hook',
      'http://10.0.0.1/hook',
      'http://localhost.evil.example/',
      // A name under .localhost may be resolved by DNS, not to loopback.
      'http://hooks.localhost:3000/aircall/webhook',
      'http://hooks.localhost./aircall/webhook',
    ]) {
      const answer = await create(sim, url);
      expect({ url, status: answer.status }).toEqual({ url, status: 400 });
      expect(answer.json).toEqual({
        error: 'Bad Request',
        troubleshoot: expect.stringContaining('url must point at this machine (127.0.0.1, ::1 or localhost)'),
      });
    }
    expect(sim.company('acme').webhooks()).toEqual([]);
    expect(() => sim.company('acme').createWebhook({ url: 'https://example.com/hook' })).toThrow(
      /url must point at this machine/,
    );
  });

  it('takes webhook URLs on loopback, by address or by name', async () => {
    const sim = await start({ allowRemoteDelivery: false });
    for (const url of [
      'http://127.0.0.1:3000/aircall/webhook',
      'http://127.0.0.2/hook',
      'http://[::1]:3000/hook',
      'https://localhost/hook',
    ]) {
      expect({ url, status: (await create(sim, url)).status }).toEqual({ url, status: 201 });
    }
  });

  it('refuses to move a webhook to a remote URL with a PUT, and keeps its URL', async () => {
    const sim = await start({ allowRemoteDelivery: false });
    const webhook = webhookOf(await create(sim, 'http://127.0.0.1:3000/aircall/webhook'));
    const moved = await callApi(sim, `/webhooks/${String(webhook.webhook_id)}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { url: 'https://example.com/hook', events: ['call.ended'] },
    });
    expect(moved.status).toBe(400);
    expect(
      sim
        .company('acme')
        .webhooks()
        .map((w) => w.url),
    ).toEqual(['http://127.0.0.1:3000/aircall/webhook']);
  });

  it('refuses remote URLs by default, and takes them when remote delivery is allowed', async () => {
    const byDefault = await startSimulator({ companies: [ACME] });
    try {
      expect((await create(byDefault, 'https://example.com/hook')).status).toBe(400);
    } finally {
      await byDefault.stop();
    }
    const allowed = await start({ allowRemoteDelivery: true });
    expect((await create(allowed, 'https://example.com/hook')).status).toBe(201);
  });
});

describe('simulator default company', () => {
  it('makes its API ID and token at random at each start', async () => {
    const first = await startSimulator();
    const second = await startSimulator();
    try {
      const [a, b] = [first.companies()[0], second.companies()[0]];
      expect(a?.account).toBe('demo');
      expect(a?.apiId).toMatch(/^demo-[0-9a-f]{8}$/);
      expect(a?.apiToken).toMatch(/^[0-9a-f]{32}$/);
      expect(b?.apiToken).not.toBe(a?.apiToken);
      expect(b?.apiId).not.toBe(a?.apiId);
      const ping = await callApi(first, '/ping', { authorization: first.company('demo').authorization });
      expect(ping.status).toBe(200);
      expect((await callApi(first, '/ping', { authorization: basic('demo-id', 'demo-token') })).status).toBe(
        401,
      );
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describe('simulator API usage on its clock', () => {
  const FROM = 1_700_000_000;
  let nowMs = 0;

  /** Reads every page of a listing like a client whose sleep moves the clock: to the reset on a 429, by `pauseMs` otherwise. */
  const readPaced = async (sim: Simulator, path: string, pauseMs: number) => {
    const pages: number[] = [];
    let refusals = 0;
    let link: string | null = `${sim.apiUrl}${path}`;
    while (link !== null) {
      const answer = await callApi(sim, link, { authorization: AUTH });
      if (answer.status === 429) {
        refusals += 1;
        nowMs = Math.max(nowMs, Number(answer.headers.get('x-aircallapi-reset')) * 1000);
        continue;
      }
      const { meta, calls } = answer.json;
      if (!isJsonObject(meta) || !Array.isArray(calls)) throw new Error(answer.text);
      pages.push(calls.length);
      link = typeof meta.next_page_link === 'string' ? meta.next_page_link : null;
      nowMs += pauseMs;
    }
    return { pages, refusals };
  };

  it('counts requests, 429s and the busiest minute, with the limit kept on the simulator clock', async () => {
    nowMs = FROM * 1000;
    const sim = await start({ now: () => nowMs });
    sim.seedHistory('acme', { calls: 10_000, from: FROM - 86_400, to: FROM - 1 });

    const { pages, refusals } = await readPaced(sim, '/calls?per_page=50', 0);

    expect(pages).toHaveLength(200);
    expect(pages.every((count) => count === 50)).toBe(true);
    // 120 pages in the first minute, one refusal, the other 80 once the clock reached the reset.
    expect(refusals).toBe(1);
    expect(nowMs).toBe((FROM + 60) * 1000);
    expect(sim.apiStats('acme')).toEqual({
      account: 'acme',
      requests: 201,
      rateLimited: 1,
      peakRequestsPerMinute: 121,
    });
    expect(sim.stats().api).toEqual([sim.apiStats('acme'), sim.apiStats('globex')]);
    expect(sim.apiStats('globex')).toMatchObject({ requests: 0, rateLimited: 0, peakRequestsPerMinute: 0 });
  });

  it('sees a client that paces itself at two requests a second stay within the limit', async () => {
    nowMs = FROM * 1000;
    const sim = await start({ now: () => nowMs });
    sim.seedHistory('acme', { calls: 10_000, from: FROM - 86_400, to: FROM - 1 });

    const { pages, refusals } = await readPaced(sim, '/calls?per_page=50', 500);

    expect(pages).toHaveLength(200);
    expect(refusals).toBe(0);
    expect(sim.apiStats('acme')).toMatchObject({ requests: 200, rateLimited: 0, peakRequestsPerMinute: 120 });
  });
});
