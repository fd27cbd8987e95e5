// A hostile-input corpus over HTTP against the local stack: each request gets its defined status, nothing rejected
// is enqueued or half stored, every 200 is stored, the server keeps serving, and no secret reaches a log line.

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture.js';
import { type SampleName, sampleBody } from '../support/fixtures.js';
import { startTestLocalStack, type TestLocalStack, TOKEN, waitFor } from '../support/local.js';
import { scanEvents, scanTable } from '../support/tables.js';

interface Probe {
  readonly name: string;
  readonly status: number;
  readonly method?: string;
  /** Relative to the webhook route; `null` keeps the route. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Omitted: no body at all. */
  readonly body?: string | Buffer;
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;
const SAMPLES: readonly SampleName[] = [
  'captured-contact.created',
  'captured-inbound-voicemail-call.ended',
  'captured-outbound-call.created',
  'captured-outbound-call.ended',
  'captured-outbound-call.hungup',
  'captured-user.connected',
  'captured-user.created',
  'documented-call.created',
  'documented-integration.deleted',
  'documented-number.closed',
];
const WRONG_TOKENS = [
  'not-the-token',
  '',
  'x'.repeat(10_000),
  TOKEN.toUpperCase(),
  ` ${TOKEN}`,
  `${TOKEN}\n`,
];

let nextId = 5_100_000_000;
/** A user event of its own, so that every accepted probe stores exactly one distinct event. */
const userEvent = (
  overrides: Readonly<Record<string, unknown>> = {},
  data: Readonly<Record<string, unknown>> = {},
) => {
  const base = JSON.parse(sampleBody('captured-user.created')) as Record<string, unknown> & {
    data: Record<string, unknown>;
  };
  nextId += 1;
  return { ...base, token: TOKEN, ...overrides, data: { ...base.data, id: nextId, ...data } };
};
const json = (value: unknown): string => JSON.stringify(value);
/** The JSON text with raw bytes in place of its one `HERE`: a string value that is not valid UTF-8. */
const withBytes = (text: string, bytes: readonly number[]): Buffer => {
  const [before = '', after = ''] = text.split('HERE');
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
};
const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i += 1) value = { level: value };
  return value;
};

const rejected = (
  name: string,
  status: number,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = JSON_TYPE,
): Probe => ({
  name,
  status,
  headers,
  body,
});
const accepted = (
  name: string,
  body: string,
  headers: Readonly<Record<string, string>> = JSON_TYPE,
): Probe => ({
  name,
  status: 200,
  headers,
  body,
});

const corpus = (): Probe[] => [
  // Not an envelope at all.
  rejected('not JSON', 400, 'hello'),
  rejected('truncated JSON', 400, json(userEvent()).slice(0, 120)),
  rejected('a JSON string', 400, '"call.ended"'),
  rejected('a JSON number', 400, '42'),
  rejected('JSON null', 400, 'null'),
  rejected('JSON true', 400, 'true'),
  rejected('an array of envelopes', 400, json([userEvent()])),
  rejected('an empty array', 400, '[]'),
  rejected('an empty body', 400, ''),
  rejected('a whitespace body', 400, ' \n\t '),
  rejected('an empty object', 400, '{}'),
  // Envelope fields missing or of the wrong type.
  rejected('no resource', 400, json({ ...userEvent(), resource: undefined })),
  rejected('no event', 400, json({ ...userEvent(), event: undefined })),
  rejected('no data', 400, json({ ...userEvent(), data: undefined })),
  rejected('resource a number', 400, json(userEvent({ resource: 7 }))),
  rejected('event an object', 400, json(userEvent({ event: { name: 'user.created' } }))),
  rejected('data an array', 400, json({ ...userEvent(), data: [1, 2] })),
  rejected('data a string', 400, json({ ...userEvent(), data: 'user' })),
  rejected('resource empty', 400, json(userEvent({ resource: '' }))),
  // What persist could never store.
  rejected('resource over 2,048 bytes', 400, json(userEvent({ resource: 'r'.repeat(2049) }))),
  rejected('event over 1,024 bytes', 400, json(userEvent({ event: `user.${'e'.repeat(1024)}` }))),
  rejected('resource "constructor"', 400, json(userEvent({ resource: 'constructor' }))),
  rejected('resource "__proto__"', 400, json(userEvent({ resource: '__proto__' }))),
  rejected(
    'a __proto__ key inside data',
    400,
    json(userEvent()).replace('"data":{', '"data":{"__proto__":{"x":1},'),
  ),
  rejected(
    'started_at 1e300',
    400,
    json({
      ...userEvent({ resource: 'call', event: 'call.ended' }),
      data: { id: 5_000_000_001, started_at: 1e300 },
    }).replace('1e+300', '1e300'),
  ),
  rejected(
    'duration 1e200',
    400,
    json(userEvent({}, { duration: 1 })).replace('"duration":1', '"duration":1e200'),
  ),
  rejected(
    'a number of 40 significant digits',
    400,
    json(userEvent({}, { wrap_up_time: 1 })).replace(
      '"wrap_up_time":1',
      '"wrap_up_time":1234567890123456789012345678901234567890',
    ),
  ),
  rejected('data nested 40 levels deep', 400, json(userEvent({}, { deep: nested(40) }))),
  rejected('an empty key inside data', 400, json(userEvent({}, { '': 1 }))),
  rejected(
    '480 KB of incompressible data',
    413,
    json(userEvent({}, { blob: randomBytes(360_000).toString('base64') })),
  ),
  rejected('a body over the queue limit', 413, json(userEvent({}, { blob: 'x'.repeat(1_100_000) }))),
  rejected(
    'invalid UTF-8 inside a string',
    400,
    withBytes(json(userEvent({}, { name: 'HERE' })), [0xc3, 0x28]),
  ),
  rejected(
    'UTF-8 cut short inside a string',
    400,
    withBytes(json(userEvent({}, { name: 'HERE' })), [0xe2, 0x82]),
  ),
  // Content types.
  rejected('text/plain', 415, json(userEvent()), { 'content-type': 'text/plain' }),
  rejected('form-encoded', 415, json(userEvent()), { 'content-type': 'application/x-www-form-urlencoded' }),
  rejected('no content type', 415, json(userEvent()), {}),
  rejected('application/jsonp', 415, json(userEvent()), { 'content-type': 'application/jsonp' }),
  // Tokens.
  rejected('no token', 401, json({ ...userEvent(), token: undefined })),
  rejected('a numeric token', 401, json(userEvent({ token: 12345 }))),
  rejected('a null token', 401, json(userEvent({ token: null }))),
  ...WRONG_TOKENS.map((token, i) => rejected(`wrong token #${i + 1}`, 401, json(userEvent({ token })))),
  // Methods, paths and callers a webhook never is.
  { name: 'GET', status: 404, method: 'GET' },
  { name: 'PUT', status: 404, method: 'PUT', headers: JSON_TYPE, body: json(userEvent()) },
  { name: 'DELETE', status: 404, method: 'DELETE' },
  { name: 'another path', status: 404, path: '/aircall/other', headers: JSON_TYPE, body: json(userEvent()) },
  {
    name: 'the path with a trailing slash',
    status: 404,
    path: '/aircall/webhook/',
    headers: JSON_TYPE,
    body: json(userEvent()),
  },
  rejected('a browser Origin', 403, json(userEvent()), { ...JSON_TYPE, origin: 'https://evil.example' }),
  rejected('a foreign Host', 403, json(userEvent()), { ...JSON_TYPE, host: 'evil.example' }),
  // Accepted: the real samples, unknown names, ids beyond 2^53, content type parameters.
  ...SAMPLES.map((name) =>
    accepted(`sample ${name}`, json({ ...JSON.parse(sampleBody(name)), token: TOKEN })),
  ),
  accepted(
    'an unknown resource',
    json(userEvent({ resource: 'ai_voice_agent', event: 'ai_voice_agent.started' })),
  ),
  accepted('an unknown event of a known resource', json(userEvent({ event: 'user.teleported' }))),
  accepted(
    'a call id beyond 2^53',
    json({ ...JSON.parse(sampleBody('captured-outbound-call.created')), token: TOKEN }).replace(
      '"id":780836699',
      '"id":9007199254740993',
    ),
  ),
  accepted('charset and case in the content type', json(userEvent()), {
    'content-type': 'Application/JSON; charset=utf-8',
  }),
  accepted('unicode in data', json(userEvent({}, { name: 'Zoë 👩‍💼 Ørsted' }))),
  accepted('data nested 20 levels deep', json(userEvent({}, { deep: nested(20) }))),
];

/** One raw HTTP request, so that method, Host and bytes are exactly the probe's. */
const send = (url: URL, probe: Probe): Promise<number> =>
  new Promise((resolve, reject) => {
    const body = probe.body === undefined ? undefined : Buffer.from(probe.body);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: probe.method ?? 'POST',
        path: probe.path ?? url.pathname,
        headers: {
          ...(body === undefined ? {} : { 'content-length': String(body.length) }),
          ...probe.headers,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const countBy = (statuses: readonly number[]): Record<number, number> => {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
};

describe('hostile input over HTTP', () => {
  let local: TestLocalStack;
  const probes = corpus();
  const answers = new Map<string, number>();
  let output = '';

  beforeAll(async () => {
    local = await startTestLocalStack();
    const url = new URL(local.stack.webhookUrl);
    const run = await captureOutput(async () => {
      for (const probe of probes) answers.set(probe.name, await send(url, probe));
      await waitFor(() => (local.stack.depth().queue === 0 ? true : undefined), 20_000);
    });
    output = run.output;
  }, 60_000);

  afterAll(async () => {
    await local?.dispose();
  });

  it('holds at least 40 cases', () => {
    expect(probes.length).toBeGreaterThanOrEqual(40);
    expect(new Set(probes.map((p) => p.name)).size).toBe(probes.length);
  });

  it('answers each case its defined status', () => {
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(probes.map((p) => [p.name, p.status])));
  });

  it('counts: every 200 enqueued and stored once, nothing else enqueued, nothing dead-lettered', async () => {
    const acceptedCount = probes.filter((p) => p.status === 200).length;
    const events = await scanEvents(local.documents, local.settings.tables.events);

    expect(countBy([...answers.values()])[200]).toBe(acceptedCount);
    expect({
      enqueued: local.stack.activity.persisted + local.stack.activity.failed,
      stored: events.length,
      failed: local.stack.activity.failed,
      deadLettered: local.stack.depth().deadLetterQueue,
      stillQueued: local.stack.depth().queue,
    }).toEqual({
      enqueued: acceptedCount,
      stored: acceptedCount,
      failed: 0,
      deadLettered: 0,
      stillQueued: 0,
    });
  });

  it('stores nothing of a rejected body, in the log or as state', async () => {
    const users = await scanTable(local.documents, local.settings.tables.users);
    const storedIds = new Set(users.map((user) => user.id));
    const acceptedUserIds = probes
      .filter((p) => p.status === 200 && typeof p.body === 'string' && p.body.includes('"resource":"user"'))
      .map((p) => (JSON.parse(String(p.body)) as { data: { id: number } }).data.id);
    expect([...storedIds].filter((id) => typeof id === 'number' && id > 5_100_000_000).sort()).toEqual(
      acceptedUserIds.filter((id) => id > 5_100_000_000).sort(),
    );
  });

  it('keeps the exact digits of an id beyond 2^53', async () => {
    const calls = await scanTable(local.documents, local.settings.tables.calls);
    expect(calls.map((call) => String(call.id))).toContain('9007199254740993');
  });

  it('keeps serving after the corpus', async () => {
    const probe = accepted('after', json(userEvent()));
    expect(await send(new URL(local.stack.webhookUrl), probe)).toBe(200);
  });

  it('writes no token and no phone number to any log line', () => {
    expect(output.length).toBeGreaterThan(0);
    for (const token of [TOKEN, ...WRONG_TOKENS.filter((t) => t.trim().length > 3)])
      expect(output).not.toContain(token.trim());
    for (const name of SAMPLES) {
      for (const digits of sampleBody(name).match(/\+\d[\d ]{6,}\d/g) ?? [])
        expect(output).not.toContain(digits);
    }
  });
});
