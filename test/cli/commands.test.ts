// The query commands against the embedded emulators, holding what the real ingest and persist handlers stored.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { localTarget, type ResolveTarget, resolveTarget } from '../../cli/target.js';
import { STACK_FILE, writeStackRecord } from '../../local/discovery.js';
import { withFields } from '../support/bodies.js';
import { type SampleName, sampleBody } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/stack.js';
import { recordingIo } from './io.js';
import { closedPort, emptyDataDir, endedPid, stackRecord } from './net.js';
import { pipelineFor } from './pipeline.js';

const ACCOUNT = 'acme-eu';
const OUTBOUND = 780836699;
const VOICEMAIL = 780836754;
/** A call of the next day, so that a range listing has two day partitions to merge. */
const NEXT_DAY = 124;
/** Another company's missed call of the same day, in the same tables. */
const GLOBEX_CALL = 990001;
const SAMPLES: readonly SampleName[] = [
  'captured-outbound-call.created',
  'captured-outbound-call.hungup',
  'captured-outbound-call.ended',
  'captured-inbound-voicemail-call.ended',
  'documented-call.created',
  'captured-user.connected',
  'captured-user.created',
  'documented-number.closed',
  'captured-contact.created',
];

const ids = (json: string): unknown[] => (JSON.parse(json) as { id: unknown }[]).map((item) => item.id);

describe('cli query commands', () => {
  let stack: TestStack;

  /** The test stack as a local target; --table overrides apply as they do to the real local stack. */
  const testTarget: ResolveTarget = async (options) =>
    localTarget({ dynamoEndpoint: stack.endpoints.dynamo, tables: { ...stack.tables, ...options.tables } });

  /** Every Query and Scan the last command line made, as DynamoDB received them. */
  let reads: { command: string; input: Record<string, unknown> }[] = [];

  /** The test stack as a target whose client records each read it makes. */
  const recordingTarget: ResolveTarget = async (options) => {
    const target = await testTarget(options);
    target.documents.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand' || context.commandName === 'ScanCommand')
          reads.push({ command: context.commandName, input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize' },
    );
    return target;
  };

  /** Runs a command line against the test stack, as the CLI would against a local one. */
  const cli = async (...argv: string[]) => {
    reads = [];
    const io = recordingIo({
      resolveTarget: recordingTarget,
    });
    const code = await run(argv, io);
    return { code, out: io.out(), err: io.err() };
  };

  beforeAll(async () => {
    stack = await startStack();
    const nextDay = withFields(sampleBody('documented-call.created'), {
      data: {
        ...JSON.parse(sampleBody('documented-call.created')).data,
        id: NEXT_DAY,
        started_at: 1646438500,
      },
    });
    const bodies = [...SAMPLES.map((name) => sampleBody(name)), nextDay];
    const deliver = await pipelineFor(stack, ACCOUNT, bodies);
    await deliver(bodies);
    // Another account's forgery for the same call id: refused as state, kept in the log under its own account.
    const forged = withFields(sampleBody('captured-outbound-call.ended'), {
      event: 'call.tagged',
      timestamp: 1646389800,
      token: 'globex-cli-token',
    });
    await (await pipelineFor(stack, 'globex', [forged]))([forged]);
    const voicemail = JSON.parse(sampleBody('captured-inbound-voicemail-call.ended'));
    const globexCall = withFields(sampleBody('captured-inbound-voicemail-call.ended'), {
      token: 'globex-cli-token',
      data: { ...voicemail.data, id: GLOBEX_CALL, started_at: voicemail.data.started_at + 60 },
    });
    await (await pipelineFor(stack, 'globex', [globexCall]))([globexCall]);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('calls <id>', () => {
    it('shows the call as call.ended left it, its agent and number named', async () => {
      const { code, out, err } = await cli('calls', String(OUTBOUND));

      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toMatch(/^id +780836699$/m);
      expect(out).toMatch(/^status +done$/m);
      expect(out).toMatch(/^started_at +2022-03-04T10:28:55Z$/m);
      expect(out).toMatch(/^duration +20 s$/m);
      expect(out).toMatch(/^user +736640 \(Koen Test RrNuYErJ74\)$/m);
      expect(out).toMatch(/^last_event +call\.ended$/m);
    });

    it('prints the whole item, Aircall data included, as JSON with --json', async () => {
      const { code, out } = await cli('calls', String(OUTBOUND), '--json');

      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({
        id: OUTBOUND,
        account: ACCOUNT,
        status: 'done',
        last_event: 'call.ended',
        data: { id: OUTBOUND, status: 'done', user: { id: 736640 } },
      });
    });

    it('exits 1 with a clear message for a call it does not hold', async () => {
      const { code, out, err } = await cli('calls', '42');

      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toBe(`No call 42 in local stack at ${stack.endpoints.dynamo}\n`);
    });
  });

  describe('calls listings', () => {
    it('lists the calls of one agent in the range', async () => {
      const { code, out } = await cli(
        'calls',
        '--user',
        '736640',
        '--from',
        '2022-03-04',
        '--to',
        '2022-03-04',
        '--json',
      );

      expect(code).toBe(0);
      expect(ids(out)).toEqual([OUTBOUND]);
    });

    it('lists the calls on one number as a table', async () => {
      const { code, out } = await cli(
        'calls',
        '--number',
        '397375',
        '--account',
        ACCOUNT,
        '--from',
        '2022-03-01',
        '--to',
        '2022-03-31',
      );

      expect(code).toBe(0);
      const lines = out.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(
        /^780836754 +2022-03-04T10:28:59Z +inbound +done .* agents_did_not_answer +call\.ended$/,
      );
    });

    it('merges every day of a range in started_at order, and leaves out calls outside it', async () => {
      const { code, out } = await cli(
        'calls',
        '--from',
        '2022-03-04',
        '--to',
        '2022-03-05T23:59:59Z',
        '--json',
      );

      expect(code).toBe(0);
      expect(ids(out)).toEqual([OUTBOUND, VOICEMAIL, GLOBEX_CALL, NEXT_DAY]);
    });

    it('lists newest first with --newest-first and stops at --limit, saying so', async () => {
      const { code, out, err } = await cli(
        'calls',
        '--from',
        '1646352000',
        '--to',
        '2022-03-05',
        '--newest-first',
        '--limit',
        '2',
        '--json',
      );

      expect(code).toBe(0);
      expect(ids(out)).toEqual([NEXT_DAY, GLOBEX_CALL]);
      expect(err).toBe('First 2 calls shown; --limit 0 lists them all.\n');
    });

    it('covers the last seven days by default', async () => {
      const io = recordingIo({
        resolveTarget: testTarget,
        now: new Date('2024-11-27T00:00:00Z'),
      });

      expect(await run(['calls', '--json'], io)).toBe(0);
      expect(ids(io.out())).toEqual([123]);
    });

    it('lists only the missed calls with --missed', async () => {
      const { code, out } = await cli(
        'calls',
        '--missed',
        '--from',
        '2022-03-04',
        '--to',
        '2022-03-05',
        '--json',
      );

      expect(code).toBe(0);
      expect(ids(out)).toEqual([VOICEMAIL, GLOBEX_CALL]);
    });

    it('keeps only the number asked for among the missed calls', async () => {
      const own = await cli(
        'calls',
        '--missed',
        '--number',
        '397375',
        '--account',
        ACCOUNT,
        '--from',
        '2022-03-04',
        '--json',
      );
      const other = await cli(
        'calls',
        '--missed',
        '--number',
        '404821',
        '--from',
        '2022-03-04',
        '--to',
        '2022-03-05',
      );

      expect(ids(own.out)).toEqual([VOICEMAIL]);
      expect(other.code).toBe(0);
      expect(other.out).toBe('');
      expect(other.err).toMatch(
        /^No missed calls started between 2022-03-04T00:00:00Z and 2022-03-05T23:59:59Z\.\n$/,
      );
    });
  });

  describe('calls listings by account', () => {
    const day = ['--from', '2022-03-04', '--to', '2022-03-04', '--json'];

    it("lists one account's calls of a day with one Query of its day partition, no filter and no scan", async () => {
      const { code, out } = await cli('calls', '--account', 'globex', ...day);

      expect(code).toBe(0);
      expect(ids(out)).toEqual([GLOBEX_CALL]);
      expect(reads).toEqual([
        {
          command: 'QueryCommand',
          input: expect.objectContaining({
            IndexName: 'by_account_day',
            ExpressionAttributeValues: expect.objectContaining({ ':pk': 'globex#2022-03-04' }),
          }),
        },
      ]);
      expect(reads[0]?.input).not.toHaveProperty('FilterExpression');
    });

    it("lists one account's missed calls of a day with one Query of the missed index", async () => {
      const acme = await cli('calls', '--account', ACCOUNT, '--missed', ...day);
      const acmeReads = reads;
      const globex = await cli('calls', '--account', 'globex', '--missed', ...day);

      expect(ids(acme.out)).toEqual([VOICEMAIL]);
      expect(ids(globex.out)).toEqual([GLOBEX_CALL]);
      expect(acmeReads).toEqual([
        {
          command: 'QueryCommand',
          input: expect.objectContaining({
            IndexName: 'missed_by_account_day',
            ExpressionAttributeValues: expect.objectContaining({ ':pk': `${ACCOUNT}#2022-03-04` }),
          }),
        },
      ]);
    });

    it('merges every account the stack knows when no account is named', async () => {
      const { out } = await cli('calls', '--missed', ...day);

      expect(ids(out)).toEqual([VOICEMAIL, GLOBEX_CALL]);
      expect(reads.map((read) => read.input.TableName)).toContain(stack.tables.accounts);
    });

    it("keeps a user's or number's calls to the account named", async () => {
      const own = await cli('calls', '--number', '397375', '--account', ACCOUNT, ...day);
      const other = await cli('calls', '--number', '397375', '--account', 'globex', '--missed', ...day);

      expect(ids(own.out)).toEqual([VOICEMAIL]);
      expect(ids(other.out)).toEqual([GLOBEX_CALL]);
    });

    it("reads one account's events received in a time range with one Query of its receipts a day, no filter and no scan", async () => {
      // Yesterday and today, so that a run across midnight still finds what beforeAll delivered.
      const days = [Date.now() - 86_400_000, Date.now()].map((ms) => new Date(ms).toISOString().slice(0, 10));
      const { code, out } = await cli(
        'replay',
        '--account',
        'globex',
        '--from',
        days[0] ?? '',
        '--to',
        days[1] ?? '',
        '--dry-run',
        '--json',
      );

      expect(code).toBe(0);
      // The forged call.tagged and globex's own call.
      expect(JSON.parse(out)).toMatchObject({ account: 'globex', read: 2, would_send: 2, missing: 0 });
      expect(reads.map((read) => read.command)).toEqual(['QueryCommand', 'QueryCommand']);
      expect(
        reads.map((read) => (read.input.ExpressionAttributeValues as Record<string, unknown>)[':pk']),
      ).toEqual(days.map((day) => `#received#globex#${day}`));
      for (const read of reads) {
        expect(read.input).toMatchObject({ TableName: stack.tables.events });
        expect(read.input).not.toHaveProperty('FilterExpression');
        expect(read.input).not.toHaveProperty('IndexName');
      }
    });

    it('says whose calls it found none of', async () => {
      const { err } = await cli(
        'calls',
        '--account',
        'initech',
        '--from',
        '2022-03-04',
        '--to',
        '2022-03-04',
      );

      expect(err).toMatch(/^No calls of account initech started between/);
    });
  });

  describe('history', () => {
    it('lists created, hungup and ended in order, each with its time and receive time', async () => {
      const { code, out } = await cli('history', String(OUTBOUND));

      expect(code).toBe(0);
      const rows = out
        .trimEnd()
        .split('\n')
        .map((line) => line.split(/\s+/));
      expect(rows[0]).toEqual(['time', 'event', 'received_at', 'resource', 'source']);
      expect(rows.slice(1).map((r) => [r[0], r[1], r[3]])).toEqual([
        ['2022-03-04T10:28:57Z', 'call.created', 'call'],
        ['2022-03-04T10:29:15Z', 'call.hungup', 'call'],
        ['2022-03-04T10:29:46Z', 'call.ended', 'call'],
      ]);
      for (const row of rows.slice(1)) expect(row[2]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it("leaves out what another account sent for the call's id, and says so", async () => {
      const { code, out, err } = await cli('history', String(OUTBOUND));

      expect(code).toBe(0);
      expect(out).not.toContain('call.tagged');
      expect(err).toBe(
        `1 event(s) another account sent for call ${OUTBOUND} are left out: the call belongs to its own account.\n`,
      );
    });

    it('gives the stored events with their payloads as JSON with --json', async () => {
      const { code, out } = await cli('history', String(OUTBOUND), '--json');

      expect(code).toBe(0);
      const events = JSON.parse(out) as { event: string; pk: string; data: { id: number } }[];
      expect(events.map((e) => e.event)).toEqual(['call.created', 'call.hungup', 'call.ended']);
      expect(events.every((e) => e.pk === `call#${OUTBOUND}` && e.data.id === OUTBOUND)).toBe(true);
    });

    it('exits 1 for a call it does not hold', async () => {
      const { code, err } = await cli('history', '42');

      expect(code).toBe(1);
      expect(err).toContain('No call 42');
    });
  });

  describe('users and numbers', () => {
    it('lists the agents by name with their availability', async () => {
      const { code, out } = await cli('users');

      expect(code).toBe(0);
      const lines = out.trimEnd().split('\n');
      expect(lines[0]?.trim().split(/\s+/)).toEqual([
        'id',
        'name',
        'email',
        'available',
        'availability_status',
        'last_event',
        'last_event_at',
      ]);
      expect(lines[1]).toMatch(
        /^749132 +Koen Test FuPPaYFelC +\S+ +false +available +user\.created +2022-03-04T11:26:25Z$/,
      );
      expect(lines[2]).toMatch(/^736640 +Koen Test RrNuYErJ74 +\S+ +true +available +user\.connected +/);
      expect(lines).toHaveLength(3);
    });

    it('gives the agents as a JSON array with --json', async () => {
      const { out } = await cli('users', '--json');

      expect(JSON.parse(out)).toEqual([
        expect.objectContaining({ id: 749132, available: false, account: ACCOUNT }),
        expect.objectContaining({ id: 736640, available: true, availability_status: 'available' }),
      ]);
    });

    it('lists the numbers, open or closed', async () => {
      const { code, out } = await cli('numbers');

      expect(code).toBe(0);
      expect(out.trimEnd().split('\n')).toEqual([
        ' id  name                     digits             country  open   availability_status',
        '456  My first Aircall Number  +33 1 76 36 06 95  FR       false  -',
      ]);
    });
  });

  describe('target', () => {
    it('finds the local stack through DYNAMODB_PORT and the tables through --table', async () => {
      const port = new URL(stack.endpoints.dynamo).port;
      const io = recordingIo({
        resolveTarget: resolveTarget({ DATA_DIR: await emptyDataDir(), DYNAMODB_PORT: port }),
      });

      const code = await run(
        ['calls', String(VOICEMAIL), '--table', `calls=${stack.tables.calls}`, '--json'],
        io,
      );

      expect(code).toBe(0);
      expect(JSON.parse(io.out())).toMatchObject({
        id: VOICEMAIL,
        missed_call_reason: 'agents_did_not_answer',
      });
    });

    it('finds the local stack through the record npm start wrote in DATA_DIR, without its ports', async () => {
      const dataDir = await emptyDataDir();
      await writeStackRecord(
        dataDir,
        stackRecord({ dynamodb: stack.endpoints.dynamo, tables: stack.tables }),
      );
      const io = recordingIo({ resolveTarget: resolveTarget({ DATA_DIR: dataDir }) });

      const code = await run(['calls', String(VOICEMAIL), '--json'], io);

      expect(code).toBe(0);
      expect(JSON.parse(io.out())).toMatchObject({ id: VOICEMAIL });
    });

    it('says where it looked when the stack DATA_DIR records no longer answers', async () => {
      const dataDir = await emptyDataDir();
      const port = await closedPort();
      const dynamodb = `http://127.0.0.1:${port}`;
      await writeStackRecord(dataDir, stackRecord({ dynamodb, tables: stack.tables }));
      const io = recordingIo({ resolveTarget: resolveTarget({ DATA_DIR: dataDir }) });

      const code = await run(['users'], io);

      expect(code).toBe(1);
      expect(io.err()).toContain(
        `No local stack answers at ${dynamodb} (read ${join(dataDir, STACK_FILE)}, written by the stack of pid ${process.pid}`,
      );
    });

    it('passes over a record whose process has ended, and says so', async () => {
      const dataDir = await emptyDataDir();
      const pid = endedPid();
      await writeStackRecord(
        dataDir,
        stackRecord({ dynamodb: stack.endpoints.dynamo, tables: stack.tables, pid }),
      );
      const port = await closedPort();
      const io = recordingIo({
        resolveTarget: resolveTarget({ DATA_DIR: dataDir, DYNAMODB_PORT: String(port) }),
      });

      const code = await run(['users'], io);

      expect(code).toBe(1);
      expect(io.err()).toContain(
        `No local stack answers at http://127.0.0.1:${port} (${join(dataDir, STACK_FILE)} was left by pid ${pid}, which is not running, so tried the ports PORT and DYNAMODB_PORT name, or their defaults)`,
      );
    });

    it('says no local stack answers, how it looked, and how to start one, when nothing listens on its port', async () => {
      const dataDir = await emptyDataDir();
      const port = await closedPort();
      const io = recordingIo({
        resolveTarget: resolveTarget({ DATA_DIR: dataDir, DYNAMODB_PORT: String(port) }),
      });

      const code = await run(['users'], io);

      expect(code).toBe(1);
      expect(io.out()).toBe('');
      expect(io.err()).toBe(
        `No local stack answers at http://127.0.0.1:${port} (found no ${join(dataDir, STACK_FILE)} (DATA_DIR is ${dataDir}), so tried the ports PORT and DYNAMODB_PORT name, or their defaults): start it with \`npm start\` (set DATA_DIR to find one started with another), or pass --stack\n`,
      );
    });

    it('names the missing table when the local stack lacks one', async () => {
      const { code, err } = await cli('calls', '1', '--table', 'calls=no-such-table');

      expect(code).toBe(1);
      expect(err).toMatch(/^A table is missing \(local stack at .*\): /);
    });
  });
});
