// `migrate` against the embedded DynamoDB: first-layout tables filled as the first layout's persist filled them,
// copied into tables made from TABLES, and read back as the CLI and persist read them.

import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { localTarget, type ResolveTarget } from '../../cli/target.js';
import { exactNumber, receivedEvent } from '../../cli/upgrade.js';
import { toEventRecord } from '../../lambdas/persist/records.js';
import { type AircallEnvelope, parseEnvelope } from '../../lambdas/shared/envelope.js';
import { parseJson } from '../../lib/definitions/json.js';
import { decodeItem, decodePayload } from '../../lib/definitions/payload.js';
import { type ReceivedEvent, receiptsOf } from '../../lib/definitions/receipts.js';
import { TABLE_NAMES, type TableName } from '../../lib/definitions/tables.js';
import { localClientTarget } from '../../local/clients.js';
import { type RunningEmulator, startDynamo } from '../../local/emulators.js';
import { legacyTables } from '../../local/legacy-tables.js';
import { createTables } from '../../local/provision.js';
import {
  firstLayoutCall,
  firstLayoutInsight,
  firstLayoutRow,
  type Item,
  queuedEvent,
  secondLayoutCall,
  secondLayoutRow,
  stateWrite,
  transcription,
} from '../support/first-layout.js';
import { type SampleName, sample, sampleBody } from '../support/fixtures.js';
import { scanEvents, scanRaw, scanReceipts } from '../support/tables.js';
import { recordingIo } from './io.js';

const ACCOUNT = 'acme';
const DAY = '2022-03-04';
const RECEIVED = Date.UTC(2022, 2, 4, 10, 30, 0);
/** Before the test clock's now (2022-03-05) by more than the retention: rows received then have expired. */
const LONG_AGO = Date.UTC(2022, 0, 1);
const RETENTION_DAYS = 30;
const SIGNED = 'https://media.example/calls/780836699/recording.mp3?X-Amz-Signature=s3cret';
const BIG_CALL = '9007199254740993';
const BIG_CONTACT = '18446744073709551615';
/** A call whose new item persist wrote since the deploy from a later event than the old item holds. */
const NEWER_THERE = 780836800;
/** A call whose new item persist made from a summary alone: it has no state yet. */
const INSIGHT_THERE = 780836801;

const withData = (name: SampleName, fields: Record<string, unknown>): AircallEnvelope => {
  const body = JSON.parse(sampleBody(name));
  return parseEnvelope(JSON.stringify({ ...body, data: { ...body.data, ...fields } }));
};

/** The documented call with a call id and a contact id beyond 2^53, as Aircall's 64-bit ids may be. */
const bigCall = (): AircallEnvelope =>
  parseEnvelope(
    sampleBody('documented-call.created')
      .replace('"id": 123,', `"id": ${BIG_CALL},`)
      .replace('"contact": {}', `"contact": { "id": ${BIG_CONTACT} }`),
  );

const summary = (callId: number): AircallEnvelope =>
  parseEnvelope(
    JSON.stringify({
      resource: 'conversation_intelligence',
      event: 'summary.created',
      timestamp: 1646390000,
      data: { call_id: callId, content: 'The caller asked about an invoice.' },
    }),
  );

const at = (offsetSeconds: number) => RECEIVED + offsetSeconds * 1000;

const receivedOf = (row: Item): ReceivedEvent => {
  const received = receivedEvent(row);
  if (received === undefined) throw new Error('a row without its account, keys or receive time');
  return received;
};

/** What the first layout stored, what persist has written to the new tables since, and what the copy must give. */
const scenario = () => {
  const write = (envelope: AircallEnvelope, receivedAt = RECEIVED) => {
    const { event, digest } = queuedEvent(envelope, ACCOUNT, receivedAt);
    return stateWrite(event, digest);
  };
  const outbound = write(withData('captured-outbound-call.ended', { recording: SIGNED }));
  const outboundTranscript = write(transcription(780836699, 1646389900));
  const voicemail = write(sample('captured-inbound-voicemail-call.ended'));
  const big = write(bigCall());
  const olderHere = write(withData('captured-outbound-call.hungup', { id: NEWER_THERE }));
  const newerThere = write(withData('captured-outbound-call.ended', { id: NEWER_THERE }));
  const stateHere = write(withData('captured-outbound-call.ended', { id: INSIGHT_THERE }));
  const summaryThere = write(summary(INSIGHT_THERE));

  const rows = (
    [
      ['captured-outbound-call.created', at(1), 'map'],
      ['captured-outbound-call.hungup', at(2), 'map'],
      ['captured-outbound-call.ended', at(3), 'gzip'],
      ['captured-inbound-voicemail-call.ended', at(4), 'gzip'],
      ['captured-user.connected', at(5), 'map'],
    ] as const
  ).map(([name, receivedAt, form]) => ({ envelope: sample(name), receivedAt, form }));
  rows.push(
    { envelope: bigCall(), receivedAt: at(6), form: 'map' },
    { envelope: transcription(780836699, 1646389900), receivedAt: at(7), form: 'map' },
    { envelope: sample('captured-contact.created'), receivedAt: LONG_AGO, form: 'map' },
  );
  const records = rows.map(({ envelope, receivedAt, form }) => {
    const { event, digest } = queuedEvent(envelope, ACCOUNT, receivedAt);
    const record = toEventRecord(event, digest, RETENTION_DAYS);
    return { old: firstLayoutRow(record, digest, form), now: secondLayoutRow(record) };
  });
  const expired = records.at(-1);
  const present = records[4];
  if (expired === undefined || present === undefined) throw new Error('no rows');

  return {
    oldCalls: [
      {
        ...firstLayoutCall(outbound, 'map'),
        transcription: firstLayoutInsight(outboundTranscript, 'transcription'),
      },
      firstLayoutCall(voicemail, 'gzip'),
      firstLayoutCall(big, 'map'),
      firstLayoutCall(olderHere, 'map'),
      firstLayoutCall(stateHere, 'gzip'),
    ],
    oldRows: records.map((record) => record.old),
    /** What persist wrote since the deploy: a newer state of one call, a summary of another, one event row. */
    newCalls: [secondLayoutCall(newerThere), { id: INSIGHT_THERE, ...summaryThere.set }],
    newRows: [present.now],
    /** Persist lists a row before it writes it. */
    newReceipts: receiptsOf([receivedOf(present.now)], RETENTION_DAYS).map(
      (receipt): Item => ({ ...receipt }),
    ),
    expected: {
      calls: [
        {
          ...secondLayoutCall(outbound),
          transcription: outboundTranscript.set.transcription,
        },
        secondLayoutCall(voicemail),
        secondLayoutCall(big),
        secondLayoutCall(newerThere),
        { ...secondLayoutCall(stateHere), summary: summaryThere.set.summary },
      ],
      rows: records.filter((record) => record !== expired).map((record) => record.now),
      expired: expired.now,
    },
  };
};

const byId = (a: Item, b: Item): number => String(a.id).localeCompare(String(b.id));
const byKey = (a: Item, b: Item): number => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`);
const decoded = (items: readonly Item[]): unknown[] => items.map((item) => decodeItem(item));

describe('migrate against the emulators', () => {
  let emulator: RunningEmulator;
  let raw: DynamoDBClient;
  /** Reads as migrate's own client does, every digit kept; writes as persist's does. */
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    emulator = await startDynamo({ port: 0 });
    raw = new DynamoDBClient(localClientTarget(emulator.endpoint));
    documents = DynamoDBDocumentClient.from(raw, {
      marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
      unmarshallOptions: { wrapNumbers: exactNumber },
    });
  });

  afterAll(async () => {
    raw.destroy();
    await emulator.stop();
  });

  const put = async (table: string, items: readonly Item[]): Promise<void> => {
    for (const item of items) await documents.send(new PutCommand({ TableName: table, Item: item }));
  };

  /** First-layout tables as the first layout keyed them; their indexes are not read, so they have none. */
  const createFirstLayoutTables = async (names: { calls: string; events: string }): Promise<void> => {
    await raw.send(
      new CreateTableCommand({
        TableName: names.calls,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await raw.send(
      new CreateTableCommand({
        TableName: names.events,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  };

  /**
   * Fresh tables: the first layout's, filled; the second's, made from TABLES and holding what persist wrote there
   * since the deploy. `old` names the first layout's tables, by default under the same fresh prefix.
   */
  const setUp = async (old?: { calls: string; events: string }) => {
    const prefix = `migrate-${randomUUID().slice(0, 8)}`;
    const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, `${prefix}-${name}-v2`])) as Record<
      TableName,
      string
    >;
    const from = old ?? { calls: `${prefix}-calls`, events: `${prefix}-events` };
    const data = scenario();
    await createTables(raw, tables);
    await createFirstLayoutTables(from);
    await put(from.calls, data.oldCalls);
    await put(from.events, data.oldRows);
    await put(tables.calls, data.newCalls);
    await put(tables.events, [...data.newRows, ...data.newReceipts]);
    const target: ResolveTarget = async (options) =>
      localTarget({ dynamoEndpoint: emulator.endpoint, tables: { ...tables, ...options.tables } });
    const cli = async (...argv: string[]) => {
      const io = recordingIo({ resolveTarget: target, tty: argv.includes('--tty') });
      // --tty is the test's own: the run's stderr is then a terminal.
      const code = await run(['migrate', ...argv.filter((arg) => arg !== '--tty')], io);
      return { code, out: io.out(), err: io.err(), resolutions: io.resolutions() };
    };
    const fromFlags = ['--from-calls', from.calls, '--from-events', from.events];
    const contents = async () => ({
      calls: (await scanRaw(documents, tables.calls)).sort(byId),
      events: (await scanRaw(documents, tables.events)).sort(byKey),
    });
    return { tables, from, fromFlags, data, cli, contents };
  };

  it('copies every call into the new layout as persist stores it, keeping newer state and merging into the rest', async () => {
    const { tables, fromFlags, data, cli } = await setUp();

    const { code, out, err } = await cli(...fromFlags, '--json');

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      dry_run: false,
      calls: { scanned: 5, written: 4, kept: 1, failed: 0 },
      failed_items: [],
    });
    const calls = (await scanRaw(documents, tables.calls)).sort(byId);
    expect(decoded(calls)).toEqual(decoded([...data.expected.calls].sort(byId)));
    for (const call of calls) {
      for (const name of ['data', 'data_gz', 'started_day', 'missed_day'])
        expect(call).not.toHaveProperty(name);
    }
    const outbound = calls.find((call) => call.id === 780836699);
    expect(outbound?.recording).toBe('https://media.example/calls/780836699/recording.mp3');
    const voicemail = calls.find((call) => call.id === 780836754);
    expect(voicemail?.account_missed_day).toBe(`${ACCOUNT}#${DAY}`);
    expect(voicemail?.voicemail).toMatch(/^https:\/\/[^?]+$/);
  });

  it('keeps a 64-bit call id and a 64-bit id inside its data to the digit', async () => {
    const { tables, fromFlags, cli } = await setUp();

    expect((await cli(...fromFlags)).code).toBe(0);

    const big = (await scanRaw(documents, tables.calls)).find((call) => String(call.id) === BIG_CALL);
    expect(String(big?.contact_id)).toBe(BIG_CONTACT);
    if (!(big?.data_z instanceof Uint8Array)) throw new Error('no data_z on the 64-bit call');
    const data = decodePayload({ data_z: big.data_z }, parseJson);
    expect(String(data.id)).toBe(BIG_CALL);
    expect(JSON.stringify(data.contact)).toBe(`{"id":${BIG_CONTACT}}`);
  });

  it("lists the migrated calls in the account's day partition, as the calls listing queries it", async () => {
    const { tables, fromFlags, cli } = await setUp();

    expect((await cli(...fromFlags)).code).toBe(0);

    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: tables.calls,
        IndexName: 'by_account_day',
        KeyConditionExpression: 'account_day = :day',
        ExpressionAttributeValues: { ':day': `${ACCOUNT}#${DAY}` },
      }),
    );
    expect(Items.map((item) => item.id).sort()).toEqual(
      [780836699, 780836754, NEWER_THERE, INSIGHT_THERE].sort(),
    );
    const missed = await documents.send(
      new QueryCommand({
        TableName: tables.calls,
        IndexName: 'missed_by_account_day',
        KeyConditionExpression: 'account_missed_day = :day',
        ExpressionAttributeValues: { ':day': `${ACCOUNT}#${DAY}` },
      }),
    );
    expect(missed.Items?.map((item) => item.id)).toEqual([780836754]);
  });

  it('copies the event rows that have not expired, each listed by exactly one receipt', async () => {
    const { tables, fromFlags, data, cli } = await setUp();

    const { code, out } = await cli(...fromFlags, '--json');

    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.events).toMatchObject({ scanned: 8, written: 6, present: 1, expired: 1, failed: 0 });
    const rows = (await scanEvents(documents, tables.events)).sort(byKey);
    expect(rows).toEqual(decoded([...data.expected.rows].sort(byKey)));
    expect(rows.map((row) => row.pk)).not.toContain(data.expected.expired.pk);
    const receipts = await scanReceipts(documents, tables.events);
    // Persist's of the row it wrote, and those of the copy.
    expect(receipts.length).toBe(summary.receipts_written + 1);
    const expiries = new Map(rows.map((row) => [`${row.pk} ${row.sk}`, row.expires_at]));
    const listed: string[] = [];
    for (const receipt of receipts) {
      expect(receipt.pk).toBe(`#received#${ACCOUNT}#${DAY}`);
      const keys = (receipt.events as [string, string, number][]).map(([pk, sk]) => `${pk} ${sk}`);
      listed.push(...keys);
      // A receipt expires with the latest row it lists.
      expect(receipt.expires_at).toBe(Math.max(...keys.map((key) => Number(expiries.get(key)))));
    }
    expect(listed.sort()).toEqual(rows.map((row) => `${row.pk} ${row.sk}`).sort());
  });

  it('writes nothing the second time', async () => {
    const { fromFlags, cli, contents } = await setUp();
    expect((await cli(...fromFlags)).code).toBe(0);
    const first = await contents();

    const { code, out } = await cli(...fromFlags, '--json', '--segments', '2');

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      calls: { scanned: 5, written: 0, kept: 5, failed: 0 },
      events: { scanned: 8, written: 0, present: 7, expired: 1, failed: 0 },
    });
    expect(await contents()).toEqual(first);
  });

  it('writes nothing with --dry-run, and says what a run would write', async () => {
    const { fromFlags, cli, contents } = await setUp();
    const before = await contents();

    const dry = await cli(...fromFlags, '--dry-run', '--json', '--segments', '1');

    expect(dry.code).toBe(0);
    expect(await contents()).toEqual(before);
    const predicted = JSON.parse(dry.out);
    expect(predicted).toMatchObject({
      dry_run: true,
      calls: { written: 0, would_write: 4, kept: 1 },
      events: { written: 0, would_write: 6, present: 1, expired: 1 },
      receipts_written: 0,
    });
    const real = JSON.parse((await cli(...fromFlags, '--json', '--segments', '1')).out);
    expect(real.calls.written).toBe(predicted.calls.would_write);
    expect(real.events.written).toBe(predicted.events.would_write);
    expect(real.receipts_written).toBe(predicted.receipts_would_write);
  });

  it('prints a summary a person reads', async () => {
    const { from, tables, fromFlags, cli } = await setUp();

    const { code, out } = await cli(...fromFlags);

    expect(code).toBe(0);
    expect(out).toMatch(/^Migration into local stack at http:\/\/127\.0\.0\.1:\d+\n/);
    expect(out).toContain(`calls     ${from.calls} -> ${tables.calls}: 5 scanned, 4 written, 1 kept`);
    expect(out).toContain(
      `events    ${from.events} -> ${tables.events}: 8 scanned, 6 written, 1 present (already there), 1 expired (not copied)`,
    );
    expect(out).toMatch(/^receipts {2}\d+ written$/m);
  });

  it('shows the items scanned per table on a terminal, and nothing on stderr elsewhere', async () => {
    const { fromFlags, cli } = await setUp();

    const onTerminal = await cli(...fromFlags, '--tty');
    const elsewhere = await cli(...fromFlags);

    expect(onTerminal.code).toBe(0);
    expect(onTerminal.err.endsWith('\rcalls 5 scanned  events 8 scanned\u001b[K\n')).toBe(true);
    expect(elsewhere.err).toBe('');
  });

  it('copies the rest and exits 1 naming the item it could not upgrade', async () => {
    const { from, tables, fromFlags, cli } = await setUp();
    await put(from.calls, [{ id: 42, account: ACCOUNT, data_gz: new Uint8Array([1, 2, 3]) }]);

    const { code, out, err } = await cli(...fromFlags, '--json');

    expect(code).toBe(1);
    expect(JSON.parse(out).calls).toMatchObject({ scanned: 6, written: 4, kept: 1, failed: 1 });
    expect(err).toContain('1 item not copied');
    expect(err).toContain('calls id 42: UpgradeError: data_gz does not hold gzipped JSON');
    expect((await scanRaw(documents, tables.calls)).map((call) => call.id)).not.toContain(42);
  });

  it('makes every account it copies known in the accounts table, where listings of every account look', async () => {
    const { tables, fromFlags, cli } = await setUp();

    expect((await cli(...fromFlags)).code).toBe(0);

    const accounts = (await scanRaw(documents, tables.accounts)).map((item) => item.account);
    expect(accounts).toContain(ACCOUNT);
  });

  it('exits 1 naming a call another account wrote in the new table since the deploy, and changes it not', async () => {
    const { from, tables, fromFlags, cli } = await setUp();
    const [oldCall] = (await scanRaw(documents, from.calls)).sort(byId);
    if (oldCall === undefined) throw new Error('no first-layout call');
    const squatter = { id: oldCall.id, account: 'globex', last_event: 'call.tagged', order_key: '0#' };
    await put(tables.calls, [squatter]);

    const { code, out, err } = await cli(...fromFlags, '--json');

    expect(code).toBe(1);
    expect(JSON.parse(out).calls.failed).toBe(1);
    expect(err).toContain(
      `calls id ${String(oldCall.id)}: Error: the new table's item belongs to account globex`,
    );
    const stored = (await scanRaw(documents, tables.calls)).find(
      (call) => String(call.id) === String(oldCall.id),
    );
    expect(stored).toEqual(squatter);
  });

  it("defaults to the local stack's first-layout tables, and finds them beside the new ones", async () => {
    const old = { calls: 'calls', events: 'events' };
    const { tables, cli } = await setUp(old);
    expect(await legacyTables(raw, { tables })).toEqual([
      { table: 'calls', name: 'calls' },
      { table: 'events', name: 'events' },
    ]);
    // Not while they are the tables in use.
    expect(await legacyTables(raw, { tables: { calls: 'calls', events: 'events' } })).toEqual([]);

    const { code, out } = await cli('--json');

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      calls: { from: 'calls', to: tables.calls, written: 4 },
      events: { from: 'events', to: tables.events, written: 6 },
    });
  });
});

describe('migrate: arguments', () => {
  const cli = async (argv: readonly string[], resolveTarget?: ResolveTarget) => {
    const io = recordingIo(resolveTarget === undefined ? {} : { resolveTarget });
    const code = await run(['migrate', ...argv], io);
    return { code, err: io.err(), resolutions: io.resolutions() };
  };

  it.each([
    ['--stack', ['--stack', 'prod', '--from-calls', 'old-calls']],
    ['--region', ['--region', 'eu-west-1', '--table', 'calls=c', '--from-events', 'old-events']],
  ])('requires both sources against a deployed stack (%s), before reaching it', async (_flag, argv) => {
    const { code, err, resolutions } = await cli(argv);

    expect(code).toBe(2);
    expect(err).toContain('--from-calls and --from-events are required against a deployed stack');
    expect(err).toContain('Usage: aircall-webhook-stack migrate --from-calls <table> --from-events <table>');
    expect(resolutions).toBe(0);
  });

  it.each([
    [['--segments', '0'], '--segments must be a whole number of at least 1'],
    [['--segments', '65'], '--segments takes at most 64'],
    [['extra'], 'migrate takes no arguments'],
  ])('exits 2 for %j', async (argv, message) => {
    const { code, err } = await cli(argv);

    expect(code).toBe(2);
    expect(err).toContain(message);
  });

  describe('on a local DynamoDB', () => {
    let emulator: RunningEmulator;
    const tables = { calls: 'calls-v2', events: 'events-v2' };
    const target: ResolveTarget = async (options) =>
      localTarget({ dynamoEndpoint: emulator.endpoint, tables: { ...tables, ...options.tables } });

    beforeAll(async () => {
      emulator = await startDynamo({ port: 0 });
    });

    afterAll(() => emulator.stop());

    it('says which source to name when the local DynamoDB holds no table of the first layout', async () => {
      const { code, err } = await cli(['--from-events', 'old-events'], target);

      expect(code).toBe(2);
      expect(err).toContain('--from-calls is needed: the local DynamoDB');
      expect(err).toContain('holds no calls table of the first layout');
    });

    it('refuses to copy a table into itself', async () => {
      const { code, err } = await cli(['--from-calls', 'calls-v2', '--from-events', 'old-events'], target);

      expect(code).toBe(2);
      expect(err).toContain('--from-calls names calls-v2, a table of the new layout');
    });
  });
});
