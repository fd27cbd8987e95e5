// The `backfill` command: its arguments, the engine run with fakes behind it, and a run against the emulators and
// the Aircall simulator whose queued events the real persist handler stores.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatBackfillSummary,
  parseResources,
  parseWindow,
  progressLine,
  runBackfill,
  summaryJson,
} from '../../cli/commands/backfill.js';
import { CommandFailedError, UsageError } from '../../cli/errors.js';
import { run } from '../../cli/run.js';
import { localTarget, type ResolveTarget } from '../../cli/target.js';
import type {
  ApiReader,
  EventSink,
  ListedPage,
  StoredOrder,
  StoredState,
} from '../../lambdas/reconcile/ports.js';
import type { ReconcileReport } from '../../lambdas/reconcile/reconcile.js';
import { AircallAuthError } from '../../lambdas/shared/aircall/aircall.js';
import type { AircallEnvelope, JsonObject } from '../../lambdas/shared/envelope.js';
import type { FetchedResource } from '../../lib/definitions/fetched.js';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import { type Simulator, startSimulator } from '../../simulator/simulator.js';
import { captureOutput } from '../support/capture.js';
import { drainQueue, lambdaContext, receiveAll, sqsEvent, toSqsRecord } from '../support/lambda-events.js';
import { startStack, type TestStack } from '../support/stack.js';
import { getItem } from '../support/tables.js';
import { recordingIo } from './io.js';

const ACCOUNT = 'acme';
const API_ID = 'acme-api-id-7f3a';
const API_TOKEN = 'acme-api-token-s3cret-91c2';
const CREDENTIALS = { AIRCALL_ACCOUNT: ACCOUNT, AIRCALL_API_ID: API_ID, AIRCALL_API_TOKEN: API_TOKEN };

const call = (id: number, startedAt: number): JsonObject => ({
  id,
  direction: 'inbound',
  status: 'done',
  started_at: startedAt,
  answered_at: startedAt + 5,
  ended_at: startedAt + 65,
  duration: 60,
});

/** A reader over fixed listings, `per` objects a page, whose links carry a secret that must never be shown. */
const fakeReader = (
  listings: Partial<Record<FetchedResource, readonly JsonObject[]>>,
  per = 2,
): ApiReader => {
  const page = (resource: FetchedResource, next: string | undefined): ListedPage => {
    const items = listings[resource] ?? [];
    const start = next === undefined ? 0 : Number(new URL(next).searchParams.get('page')) * per;
    const end = start + per;
    return {
      items: items.slice(start, end),
      total: items.length,
      nextPageLink:
        end < items.length
          ? `https://api.example.test/v1/${resource}s?page=${end / per}&token=${API_TOKEN}`
          : null,
    };
  };
  return {
    callsPage: async (_window, next) => page('call', next),
    usersPage: async (next) => page('user', next),
    numbersPage: async (next) => page('number', next),
    contactsPage: async (next) => page('contact', next),
  };
};

const fakeStored = (items: ReadonlyMap<string, StoredOrder> = new Map()): StoredState => ({
  orderKeys: async (_resource, ids) =>
    new Map(
      ids.flatMap((id) => {
        const found = items.get(String(id));
        return found === undefined ? [] : [[String(id), found] as const];
      }),
    ),
});

const recordingSink = (): EventSink & { sent: AircallEnvelope[] } => {
  const sent: AircallEnvelope[] = [];
  return {
    sent,
    send: async (_account, envelopes) => {
      sent.push(...envelopes);
    },
  };
};

const WINDOW = { from: 1646092800, to: 1646438399 };

describe('backfill arguments', () => {
  const usageOf = async (args: readonly string[], env: Readonly<Record<string, string>> = CREDENTIALS) => {
    const io = recordingIo({ env });
    const code = await run(['backfill', ...args], io);
    return { code, err: io.err(), resolutions: io.resolutions() };
  };

  it('requires --from, before any target is opened', async () => {
    const { code, err, resolutions } = await usageOf([]);

    expect(code).toBe(2);
    expect(err).toContain('--from is required');
    expect(err).toContain('Usage: aircall-webhook-stack backfill --from <time>');
    expect(resolutions).toBe(0);
  });

  it('refuses an unknown resource and lists the valid ones', async () => {
    const { code, err } = await usageOf(['--from', '2022-03-01', '--resources', 'calls,tags']);

    expect(code).toBe(2);
    expect(err).toContain('unknown resource "tags": --resources takes calls, users, numbers, contacts');
  });

  it('refuses a window that ends before it starts, and a time it cannot read', async () => {
    expect((await usageOf(['--from', '2022-03-05', '--to', '2022-03-01'])).err).toContain(
      '--from is after --to',
    );
    expect((await usageOf(['--from', 'yesterday'])).err).toContain('"yesterday" is not a time');
  });

  it('asks for credentials when neither pair nor token is given', async () => {
    const { code, err, resolutions } = await usageOf(['--from', '2022-03-01'], {
      AIRCALL_ACCOUNT: ACCOUNT,
      AIRCALL_API_ID: API_ID,
    });

    expect(code).toBe(2);
    expect(err).toContain('AIRCALL_API_ID and AIRCALL_API_TOKEN, or AIRCALL_ACCESS_TOKEN');
    expect(resolutions).toBe(0);
  });

  it('takes no positional arguments', async () => {
    expect((await usageOf(['calls', '--from', '2022-03-01'])).err).toContain('backfill takes no arguments');
  });

  it('is listed in the global help, and its help names every option', async () => {
    const io = recordingIo();
    await run(['--help'], io);
    expect(io.out()).toMatch(/\n {2}backfill +queue an account's calls/);

    const help = recordingIo();
    expect(await run(['backfill', '--help'], help)).toBe(0);
    for (const option of [
      '--from',
      '--to',
      '--account',
      '--resources',
      '--dry-run',
      '--json',
      '--api-id',
      '--api-token',
      '--access-token',
      '--api-url',
      '--stack',
      '--region',
      '--table',
    ])
      expect(help.out()).toContain(option);
    expect(help.out()).toContain('a second run over the same\nwindow sends nothing');
  });
});

describe('parseResources', () => {
  it('reads all four by default, calls first', () => {
    expect(parseResources(undefined)).toEqual(['call', 'user', 'number', 'contact']);
  });

  it('maps the plural names to the resources, in reading order, each once', () => {
    expect(parseResources('contacts, calls,contacts')).toEqual(['call', 'contact']);
    expect(parseResources('users')).toEqual(['user']);
  });

  it('refuses an empty list and a singular name', () => {
    expect(() => parseResources(',')).toThrow(UsageError);
    expect(() => parseResources('call')).toThrow('unknown resource "call"');
  });
});

describe('parseWindow', () => {
  const now = new Date('2022-03-05T12:00:00Z');

  it('takes a date as --to for its whole day, and now without one', () => {
    expect(parseWindow('2022-03-01', '2022-03-04', now)).toEqual({ from: 1646092800, to: 1646438399 });
    expect(parseWindow('2022-03-01', undefined, now)).toEqual({ from: 1646092800, to: 1646481600 });
  });
});

describe('runBackfill with fakes', () => {
  const calls = [
    call(1, WINDOW.from + 10),
    call(2, WINDOW.from + 20),
    call(3, WINDOW.from + 30),
    call(4, WINDOW.from + 40),
    call(5, WINDOW.from + 50),
  ];
  const stored = new Map<string, StoredOrder>([
    ['2', { account: ACCOUNT, orderKey: '' }],
    ['3', { account: ACCOUNT, orderKey: '\uffff' }],
    ['4', { account: 'globex', orderKey: '' }],
  ]);
  const listings = {
    call: calls,
    user: [{ id: 10, created_at: 1640995200 }],
    contact: [{ id: 20, updated_at: 1641000000 }],
  };
  const io = (tty: boolean) => {
    const written: string[] = [];
    return {
      written,
      io: {
        stderr: (text: string) => written.push(text),
        stderrIsTty: tty,
        now: () => new Date('2022-03-05T12:00:00Z'),
      },
    };
  };
  const request = { account: ACCOUNT, window: WINDOW, resources: parseResources(undefined) };

  it('sends the new and the updated objects, and counts each prediction', async () => {
    const sink = recordingSink();
    const report = await runBackfill(request, {
      reader: fakeReader(listings),
      stored: fakeStored(stored),
      sink,
      dryRun: false,
      io: io(false).io,
      label: 'test stack',
    });

    expect(sink.sent.map((e) => [e.event, e.data.id])).toEqual([
      ['call.fetched', 1],
      ['call.fetched', 2],
      ['call.fetched', 5],
      ['user.fetched', 10],
      ['contact.fetched', 20],
    ]);
    expect(report.counts).toEqual({
      fetched: 7,
      pages: 6,
      splits: 0,
      new: 4,
      updated: 1,
      unchanged: 1,
      foreign: 1,
    });
    expect(report.fetched).toEqual({ call: 5, user: 1, number: 0, contact: 1 });
  });

  it('sends nothing on a dry run, and counts the same', async () => {
    const sink = recordingSink();
    const report = await runBackfill(request, {
      reader: fakeReader(listings),
      stored: fakeStored(stored),
      sink,
      dryRun: true,
      io: io(false).io,
      label: 'test stack',
    });

    expect(sink.sent).toEqual([]);
    expect(report.counts).toMatchObject({ new: 4, updated: 1, unchanged: 1, foreign: 1 });
  });

  it('draws progress on a terminal only, with counts and times, never a link or a token', async () => {
    const terminal = io(true);
    await runBackfill(request, {
      reader: fakeReader(listings),
      stored: fakeStored(),
      sink: recordingSink(),
      dryRun: false,
      io: terminal.io,
      label: 'test stack',
    });
    const drawn = terminal.written.join('');

    expect(drawn).toContain('calls 2022-03-01T00:00:00Z..2022-03-04T23:59:59Z  [');
    expect(drawn).toContain('5/5');
    expect(drawn).toContain('pages in all');
    expect(drawn.endsWith('\n')).toBe(true);
    expect(drawn).not.toContain(API_TOKEN);
    expect(drawn).not.toContain('http');

    const pipe = io(false);
    await runBackfill(request, {
      reader: fakeReader(listings),
      stored: fakeStored(),
      sink: recordingSink(),
      dryRun: false,
      io: pipe.io,
      label: 'test stack',
    });
    expect(pipe.written).toEqual([]);
  });

  it('turns an Aircall refusal into the command failing, saying how far it got', async () => {
    const reader: ApiReader = {
      ...fakeReader(listings),
      usersPage: () =>
        Promise.reject(
          new AircallAuthError('Aircall refused the credentials of acme for GET /v1/users (401)', 401),
        ),
    };
    const failure = runBackfill(request, {
      reader,
      stored: fakeStored(),
      sink: recordingSink(),
      dryRun: false,
      io: io(false).io,
      label: 'test stack',
    });

    await expect(failure).rejects.toThrow(CommandFailedError);
    await expect(failure).rejects.toThrow(
      /stopped after 3 pages, 5 events queued: Aircall refused the credentials of acme/,
    );
  });

  it('names the queue when an event cannot be queued', async () => {
    const sink: EventSink = {
      send: () => Promise.reject(new Error('2 fetched events were not queued (InternalError)')),
    };
    const failure = runBackfill(request, {
      reader: fakeReader(listings),
      stored: fakeStored(),
      sink,
      dryRun: false,
      io: io(false).io,
      label: 'test stack',
    });

    await expect(failure).rejects.toThrow(
      'Could not queue events on the events queue of test stack: Error: 2 fetched events were not queued (InternalError)',
    );
  });
});

describe('progressLine', () => {
  const counts = { fetched: 60, pages: 3, splits: 0, new: 60, updated: 0, unchanged: 0, foreign: 0 };

  it('estimates the rest of the listing at one page per half second', () => {
    const line = progressLine(
      { resource: 'call', items: 50, total: 1050, window: WINDOW, counts },
      { pages: 1, items: 50 },
    );
    expect(line).toContain('50/1050');
    // 20 pages left, 500 ms apart.
    expect(line).toContain('~10 s left in this listing');
  });

  it('counts what was read where Aircall announced no total', () => {
    expect(
      progressLine({ resource: 'user', items: 10, total: undefined, counts }, { pages: 2, items: 60 }),
    ).toBe('users  60 read  3 pages in all');
  });
});

describe('the summary', () => {
  const report: ReconcileReport = {
    account: ACCOUNT,
    complete: true,
    counts: { fetched: 9, pages: 4, splits: 1, new: 3, updated: 2, unchanged: 3, foreign: 1 },
    fetched: { call: 6, user: 2, number: 0, contact: 1 },
  };
  const context = {
    window: WINDOW,
    resources: parseResources('calls,users,contacts'),
    dryRun: false,
    label: 'stack prod',
  };

  it('reads fetched by resource, each prediction, pages, splits and what was sent', () => {
    expect(formatBackfillSummary(report, context)).toBe(
      `Backfill of account acme, calls from 2022-03-01T00:00:00Z to 2022-03-04T23:59:59Z, into stack prod
fetched        9 (calls 6, users 2, contacts 1)
new            3
updated        2
unchanged      3
foreign        1 (stored under another account: not sent, persist refuses them)
pages          4
windows split  1
sent           5 events to the events queue
`,
    );
  });

  it('says a dry run sent nothing, and what a run would send', () => {
    const text = formatBackfillSummary(report, { ...context, dryRun: true });
    expect(text).toContain('(dry run)');
    expect(text).toContain('sent           nothing (dry run): a run would send 5 events');
    expect(summaryJson(report, { ...context, dryRun: true })).toMatchObject({
      dry_run: true,
      sent: 0,
      would_send: 5,
    });
  });

  it('gives the same numbers as JSON', () => {
    expect(summaryJson(report, context)).toEqual({
      account: ACCOUNT,
      from: '2022-03-01T00:00:00Z',
      to: '2022-03-04T23:59:59Z',
      resources: ['calls', 'users', 'contacts'],
      dry_run: false,
      fetched: { calls: 6, users: 2, contacts: 1 },
      new: 3,
      updated: 2,
      unchanged: 3,
      foreign: 1,
      pages: 4,
      windows_split: 1,
      sent: 5,
    });
  });
});

describe('backfill against the emulators and the simulator', () => {
  let stack: TestStack;
  let simulator: Simulator;
  let seeded: number[];
  let target: ResolveTarget;
  const to = Math.floor(Date.now() / 1000) - 3600;
  const from = to - 86_400;

  beforeAll(async () => {
    [stack, simulator] = await Promise.all([
      startStack(),
      startSimulator({ port: 0, companies: [{ account: ACCOUNT, apiId: API_ID, apiToken: API_TOKEN }] }),
    ]);
    seeded = simulator.seedHistory(ACCOUNT, { calls: 7, from: from + 60, to: to - 60 });
    // The queue named as a stack without a record names it, so its URL is looked up.
    const queueName = stack.queues.queueUrl.split('/').at(-1) ?? '';
    target = async (options) =>
      localTarget({
        dynamoEndpoint: stack.endpoints.dynamo,
        tables: { ...stack.tables, ...options.tables },
        eventsQueue: { queue: { name: queueName }, sqsEndpoint: stack.endpoints.sqs },
      });
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), simulator?.stop()]);
  });

  const backfill = async (args: readonly string[], tty = false) => {
    const io = recordingIo({
      resolveTarget: target,
      env: { ...CREDENTIALS, AIRCALL_API_URL: simulator.apiUrl },
      tty,
      now: new Date(),
    });
    const code = await run(['backfill', '--from', String(from), '--to', String(to), ...args], io);
    return { code, out: io.out(), err: io.err() };
  };

  it('queues one event per object read, which persist stores, and sends nothing on a second run', async () => {
    const dry = await backfill(['--resources', 'calls', '--dry-run', '--json']);
    expect(dry.err).toBe('');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({
      resources: ['calls'],
      dry_run: true,
      fetched: { calls: 7 },
      new: 7,
      sent: 0,
      would_send: 7,
    });
    expect(await receiveAll(stack.sqs, stack.queues.queueUrl)).toEqual([]);

    const first = await backfill([], true);
    expect(first.code).toBe(0);
    expect(first.err).toContain('7/7');
    for (const secret of [API_TOKEN, API_ID, simulator.apiUrl]) {
      expect(first.err).not.toContain(secret);
      expect(first.out).not.toContain(secret);
    }
    const fetched = /^fetched +(\d+) \(calls 7, users (\d+), numbers (\d+), contacts (\d+)\)$/m.exec(
      first.out,
    );
    expect(fetched).not.toBeNull();
    const total = Number(fetched?.[1]);
    expect(Number(fetched?.[2])).toBeGreaterThan(0);
    expect(Number(fetched?.[3])).toBeGreaterThan(0);
    expect(first.out).toMatch(new RegExp(`^new +${total}$`, 'm'));
    expect(first.out).toContain(`sent           ${total} events to the events queue`);

    const messages = await drainQueue(stack.sqs, stack.queues.queueUrl);
    expect(messages).toHaveLength(total);
    const bodies = messages.map((m) => JSON.parse(m.Body ?? '{}') as { event: string; data: { id: number } });
    const calls = bodies.filter((b) => b.event === 'call.fetched').map((b) => b.data.id);
    expect(calls.sort((a, b) => a - b)).toEqual([...seeded].sort((a, b) => a - b));
    expect(new Set(bodies.map((b) => b.event))).toEqual(
      new Set(['call.fetched', 'user.fetched', 'number.fetched', 'contact.fetched']),
    );
    expect(
      new Set(messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.account]?.StringValue)),
    ).toEqual(new Set([ACCOUNT]));

    // Ten at a time, as the event source mapping hands them over.
    const persist = stack.persist({ logLevel: 'ERROR' });
    const records = messages.map((m) => toSqsRecord(m, stack.queues.queueArn));
    for (let start = 0; start < records.length; start += 10) {
      const { result } = await captureOutput(() =>
        persist(sqsEvent(records.slice(start, start + 10)), lambdaContext('persist')),
      );
      expect(result).toEqual({ batchItemFailures: [] });
    }
    const [firstId] = seeded;
    expect(await getItem(stack.documents, stack.tables.calls, { id: firstId })).toMatchObject({
      account: ACCOUNT,
      id: firstId,
    });

    const second = await backfill(['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({
      fetched: { calls: 7 },
      new: 0,
      updated: 0,
      unchanged: total,
      foreign: 0,
      sent: 0,
    });
    expect(await receiveAll(stack.sqs, stack.queues.queueUrl)).toEqual([]);
  });

  it("fails with Aircall's refusal of wrong credentials, and sends nothing", async () => {
    const io = recordingIo({
      resolveTarget: target,
      env: { ...CREDENTIALS, AIRCALL_API_TOKEN: 'not-the-token', AIRCALL_API_URL: simulator.apiUrl },
    });
    const code = await run(
      ['backfill', '--from', String(from), '--to', String(to), '--resources', 'calls'],
      io,
    );

    expect(code).toBe(1);
    expect(io.err()).toContain(
      'Backfill of account acme stopped after 0 pages, 0 events queued: Aircall refused the credentials of acme',
    );
    expect(io.err()).not.toContain('not-the-token');
    expect(await receiveAll(stack.sqs, stack.queues.queueUrl)).toEqual([]);
  });
});
