// The Aircall client's reads, page by page: calls in a window, users, numbers, contacts, and one call by id.

import { describe, expect, it } from 'vitest';
import {
  AircallApiError,
  AircallAuthError,
  AircallBadRequestError,
  AircallListingCapError,
  AircallServerError,
} from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { ExactInteger } from '../../lambdas/shared/envelope.js';
import { type FetchReply, scriptedFetch } from '../support/scripted-fetch.js';

const START = 1_700_000_000_000;
const API_TOKEN = 'api-token-SECRET-77aa';
const BASIC = { account: 'acme', apiId: 'api-id-1', apiToken: API_TOKEN };
const ORIGIN = 'https://api.aircall.test';
const BASE_URL = `${ORIGIN}/v1`;
const WINDOW = { from: 1_735_689_600, to: 1_735_775_999 };
const CAP_MESSAGE =
  'Your query is limited to 10k results and pagination is out of bound, please use timestamps or other filters.';

const meta = (overrides: Record<string, unknown> = {}) => ({
  count: 1,
  total: 2,
  current_page: 1,
  per_page: 50,
  next_page_link: null,
  previous_page_link: null,
  ...overrides,
});
const ok = (json: unknown): FetchReply => ({ status: 200, json });

/** A clock that moves only when the client sleeps, so waits are exact and instant. */
const virtualTime = () => {
  let now = START;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
};

const readerFor = () => {
  const time = virtualTime();
  const wire = scriptedFetch(time.now);
  const client = new AircallClient({
    credentials: BASIC,
    baseUrl: BASE_URL,
    fetch: wire.fetch,
    sleep: time.sleep,
    now: time.now,
  });
  return { client, wire, time };
};

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, got a result');
};

const queryOf = (url: URL | undefined): [string, string][] => [...(url?.searchParams.entries() ?? [])];

describe('AircallClient.callsPage', () => {
  it('asks for the window oldest first, 50 a page, with exactly these parameters', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ calls: [{ id: 1 }], meta: meta() }));
    await client.callsPage(WINDOW);
    const [request] = wire.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url.pathname).toBe('/v1/calls');
    expect(queryOf(request?.url)).toEqual([
      ['from', '1735689600'],
      ['to', '1735775999'],
      ['order', 'asc'],
      ['per_page', '50'],
    ]);
    expect(request?.headers.get('authorization')).toBe(
      `Basic ${Buffer.from(`api-id-1:${API_TOKEN}`).toString('base64')}`,
    );
  });

  it('returns the items, total, page, per_page and next_page_link of the answer', async () => {
    const { client, wire } = readerFor();
    const next = `${BASE_URL}/calls?from=1735689600&to=1735775999&order=asc&page=2&per_page=50`;
    wire.script(
      ok({ calls: [{ id: 1, direction: 'inbound' }], meta: meta({ total: 51, next_page_link: next }) }),
    );
    expect(await client.callsPage(WINDOW)).toEqual({
      items: [{ id: 1, direction: 'inbound' }],
      total: 51,
      page: 1,
      perPage: 50,
      nextPageLink: next,
    });
  });

  it('follows the next_page_link as given, and reads the last page as the end', async () => {
    const { client, wire } = readerFor();
    const next = `${BASE_URL}/calls?from=1735689600&to=1735775999&order=asc&page=2&per_page=50`;
    wire.script(
      ok({ calls: [{ id: 1 }], meta: meta({ next_page_link: next }) }),
      ok({ calls: [{ id: 2 }], meta: meta({ current_page: 2 }) }),
    );
    const first = await client.callsPage(WINDOW);
    const second = await client.callsPage(WINDOW, first.nextPageLink ?? undefined);
    expect(wire.requests[1]?.url.href).toBe(next);
    expect(second).toMatchObject({ items: [{ id: 2 }], page: 2, nextPageLink: null });
  });

  it('refuses a next_page_link on another origin and sends it nothing', async () => {
    const { client, wire } = readerFor();
    const error = await rejection(client.callsPage(WINDOW, 'https://elsewhere.example/v1/calls?page=2'));
    expect(error).toBeInstanceOf(AircallApiError);
    expect(error.message).toContain('https://elsewhere.example');
    expect(wire.requests).toHaveLength(0);
  });

  it('keeps call, user and number ids beyond 2^53 exact', async () => {
    const { client, wire } = readerFor();
    wire.script({
      status: 200,
      text:
        '{"calls":[{"id":9007199254740993,"user":{"id":18446744073709551615},"duration":42}],' +
        '"meta":{"total":1,"current_page":1,"per_page":50,"next_page_link":null}}',
    });
    const { items } = await client.callsPage(WINDOW);
    const [call] = items;
    expect(call?.id).toBeInstanceOf(ExactInteger);
    expect(String(call?.id)).toBe('9007199254740993');
    expect(JSON.stringify(call)).toBe(
      '{"id":9007199254740993,"user":{"id":18446744073709551615},"duration":42}',
    );
  });

  it('throws AircallListingCapError past the 10,000th result', async () => {
    const { client, wire } = readerFor();
    wire.script({ status: 400, json: { error: CAP_MESSAGE, troubleshoot: 'Slice the window.' } });
    const error = await rejection(client.callsPage(WINDOW, `${BASE_URL}/calls?page=201&per_page=50`));
    expect(error).toBeInstanceOf(AircallListingCapError);
    expect(error).toBeInstanceOf(AircallBadRequestError);
    expect((error as AircallListingCapError).status).toBe(400);
    expect(wire.requests).toHaveLength(1);
  });

  it('keeps another 400 a plain AircallBadRequestError', async () => {
    const { client, wire } = readerFor();
    wire.script({ status: 400, json: { error: 'from must be a timestamp' } });
    const error = await rejection(client.callsPage(WINDOW));
    expect(error).toBeInstanceOf(AircallBadRequestError);
    expect(error).not.toBeInstanceOf(AircallListingCapError);
  });

  it('waits until the X-AircallApi-Reset of a 429, then reads the page', async () => {
    const { client, wire, time } = readerFor();
    wire.script(
      {
        status: 429,
        json: { error: 'Too many requests' },
        headers: { 'X-AircallApi-Reset': String(START / 1000 + 4) },
      },
      ok({ calls: [{ id: 1 }], meta: meta() }),
    );
    expect((await client.callsPage(WINDOW)).items).toEqual([{ id: 1 }]);
    expect(time.waits).toEqual([4000]);
    expect(wire.requests.map(({ at }) => (at ?? 0) - START)).toEqual([0, 4000]);
  });

  it('gives every page its own rate-limit wait budget', async () => {
    const time = virtualTime();
    const wire = scriptedFetch(time.now);
    const client = new AircallClient({
      credentials: BASIC,
      baseUrl: BASE_URL,
      fetch: wire.fetch,
      sleep: time.sleep,
      now: time.now,
      maxRateLimitWaitMs: 3000,
    });
    const tooMany = (afterMs: number): FetchReply => ({
      status: 429,
      json: { error: 'Too many requests' },
      headers: { 'X-AircallApi-Reset': String(START + afterMs) },
    });
    wire.script(
      tooMany(3000),
      ok({ users: [], meta: meta() }),
      tooMany(6000),
      ok({ users: [], meta: meta() }),
    );
    await client.usersPage();
    await client.usersPage();
    expect(time.waits).toEqual([3000, 3000]);
  });

  it('retries a read after a 500', async () => {
    const { client, wire } = readerFor();
    wire.script({ status: 500, json: { error: 'oops' } }, ok({ calls: [], meta: meta({ total: 0 }) }));
    expect((await client.callsPage(WINDOW)).items).toEqual([]);
    expect(wire.requests).toHaveLength(2);
  });

  it('refuses a window that is not whole seconds in order, before any request', async () => {
    const { client, wire } = readerFor();
    expect(await rejection(client.callsPage({ from: 20, to: 10 }))).toBeInstanceOf(RangeError);
    expect(await rejection(client.callsPage({ from: 1.5, to: 10 }))).toBeInstanceOf(RangeError);
    expect(wire.requests).toHaveLength(0);
  });

  it('throws AircallApiError when calls is not a list or an item is not an object', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ calls: {}, meta: meta() }), ok({ calls: [{ id: 1 }, 7], meta: meta() }));
    expect((await rejection(client.callsPage(WINDOW))).message).toContain('calls is not a list');
    expect((await rejection(client.callsPage(WINDOW))).message).toContain('calls[1] is not an object');
  });

  it('reads a page without meta as the only one', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ calls: [{ id: 1 }] }));
    expect(await client.callsPage(WINDOW)).toEqual({
      items: [{ id: 1 }],
      total: undefined,
      page: 1,
      perPage: 50,
      nextPageLink: null,
    });
  });
});

describe('AircallClient users, numbers and contacts pages', () => {
  it('asks for users 50 a page and returns the users', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ users: [{ id: 11, name: 'Ada' }], meta: meta() }));
    expect((await client.usersPage()).items).toEqual([{ id: 11, name: 'Ada' }]);
    expect(wire.requests[0]?.url.pathname).toBe('/v1/users');
    expect(queryOf(wire.requests[0]?.url)).toEqual([['per_page', '50']]);
  });

  it('asks for numbers 50 a page and returns the numbers', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ numbers: [{ id: 21, digits: '+33 1 23 45 67 89' }], meta: meta() }));
    expect((await client.numbersPage()).items).toEqual([{ id: 21, digits: '+33 1 23 45 67 89' }]);
    expect(wire.requests[0]?.url.pathname).toBe('/v1/numbers');
    expect(queryOf(wire.requests[0]?.url)).toEqual([['per_page', '50']]);
  });

  it('asks for contacts oldest first by creation, 50 a page', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ contacts: [{ id: 31 }], meta: meta() }));
    expect((await client.contactsPage()).items).toEqual([{ id: 31 }]);
    expect(wire.requests[0]?.url.pathname).toBe('/v1/contacts');
    expect(queryOf(wire.requests[0]?.url)).toEqual([
      ['per_page', '50'],
      ['order', 'asc'],
      ['order_by', 'created_at'],
    ]);
  });

  it('follows a users next_page_link on the API origin, a relative one included', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ users: [], meta: meta({ current_page: 3 }) }));
    expect((await client.usersPage('/v1/users?page=3&per_page=50')).page).toBe(3);
    expect(wire.requests[0]?.url.href).toBe(`${BASE_URL}/users?page=3&per_page=50`);
  });
});

describe('AircallClient.getCall', () => {
  it('returns the call of GET /v1/calls/:id with its id exact', async () => {
    const { client, wire } = readerFor();
    wire.script({
      status: 200,
      text: '{"call":{"id":9223372036854775807,"recording":"https://rec.example/r.mp3","voicemail":null}}',
    });
    const call = await client.getCall('9223372036854775807');
    expect(wire.requests[0]?.url.pathname).toBe('/v1/calls/9223372036854775807');
    expect(String(call?.id)).toBe('9223372036854775807');
    expect(call?.recording).toBe('https://rec.example/r.mp3');
  });

  it('returns undefined on 404', async () => {
    const { client, wire } = readerFor();
    wire.script({ status: 404, json: { error: 'Not found' } });
    expect(await client.getCall('42')).toBeUndefined();
  });

  it('throws AircallAuthError on 401 and 403', async () => {
    const { client, wire } = readerFor();
    wire.script(
      { status: 401, json: { error: 'Unauthorized' } },
      { status: 403, json: { error: 'Forbidden' } },
    );
    expect(await rejection(client.getCall('42'))).toBeInstanceOf(AircallAuthError);
    expect(await rejection(client.getCall('42'))).toBeInstanceOf(AircallAuthError);
  });

  it('throws AircallServerError after three 5xx, never naming the token', async () => {
    const { client, wire } = readerFor();
    const failing: FetchReply = { status: 503, json: { error: `down for ${API_TOKEN}` } };
    wire.script(failing, failing, failing);
    const error = await rejection(client.getCall('42'));
    expect(error).toBeInstanceOf(AircallServerError);
    expect(error.message).not.toContain(API_TOKEN);
    expect(wire.requests).toHaveLength(3);
  });

  it('throws AircallApiError when the answer holds no call', async () => {
    const { client, wire } = readerFor();
    wire.script(ok({ calls: [] }));
    expect((await rejection(client.getCall('42'))).message).toContain('call is not an object');
  });

  it('encodes the id in the path', async () => {
    const { client, wire } = readerFor();
    wire.script({ status: 404, json: { error: 'Not found' } });
    await client.getCall('../webhooks');
    expect(wire.requests[0]?.url.pathname).toBe('/v1/calls/..%2Fwebhooks');
  });
});
