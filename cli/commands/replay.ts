// `replay`: feed the stored events of a time range back through persist, as they were first queued: the same
// envelope, account and receive time, so persist finds each a duplicate and changes nothing already right.

import type { SQSClient } from '@aws-sdk/client-sqs';
import { type JsonObject, parseJson } from '../../lib/definitions/json.js';
import { decodePayload } from '../../lib/definitions/payload.js';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import {
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { TargetError, UsageError } from '../errors.js';
import { formatFields, formatJson, jsonReplacer, progressBar } from '../format.js';
import { progressLine } from '../progress.js';
import {
  type EventKey,
  eventRows,
  type Item,
  listAccounts,
  type ReceivedEntry,
  receivedOnDay,
} from '../queries.js';
import { type OutgoingMessage, sendMessages } from '../queue.js';
import { requireTable } from '../target.js';
import { isoSeconds, parseRange, type TimeRange, utcDays } from '../time.js';

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  from: { type: 'string' },
  to: { type: 'string' },
  account: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

const usage = `Usage: ${PROGRAM} replay --from <time> --to <time> [--account <name>] [--dry-run] [--json]`;

const help = `${usage}

Sends the events received in [--from, --to] back to the events queue, as they were first queued: each
stored event's envelope (resource, event, timestamp and data) with its account and its own receive
time. Persist then goes over them again: the digest and order keys come out the same, so each is a
duplicate in the event log and changes no state that is already right, and repairs what a fault
left wrong (a state write lost, a media job never sent).

Safe to repeat: a replay adds no event and changes nothing a first one did not.

  --from <time>        start of the range of receive times (required)
  --to <time>          end of the range, inclusive (required)
                       a time is UNIX seconds, a date (2022-03-04, UTC; as --to, the whole day)
                       or a datetime (2022-03-04T10:30:00Z; UTC unless it carries an offset)
  --account <name>     only the events of this account
  --dry-run            read and count the events, send nothing
  --json               the summary as a JSON object on stdout

The range is read one UTC day at a time: one Query of each account's receipts of the day in the
events table (every account the accounts table knows, or the one --account names), then each
event's row by its key. On a terminal, stderr shows the days and events done.

${TARGET_HELP}
  The events queue is the local stack's, or a deployed stack's EventsQueueUrl output (with --stack).
`;

/** An event as persist reads it from the queue. */
export interface ReplayedEvent {
  /** `{resource, event, timestamp, data}`: the webhook body without its token, as ingest queued it. */
  readonly envelope: Readonly<Record<string, unknown>>;
  readonly account: string;
  /** The row's own receive time, epoch milliseconds: persist orders and keys by it as it did the first time. */
  readonly receivedAt: number;
}

/** The events table as a replay reads it. */
export interface StoredEvents {
  /** The events one account received in the range on one UTC day, a page at a time, as its receipts list them. */
  receivedOn(request: {
    readonly account: string;
    readonly day: string;
    readonly fromMs: number;
    readonly toMs: number;
  }): AsyncIterable<readonly ReceivedEntry[]>;
  /** Whole rows by key; a row gone meanwhile (its retention ran out) is left out. */
  rows(keys: readonly EventKey[]): Promise<readonly Item[]>;
}

export interface ReplaySink {
  send(events: readonly ReplayedEvent[]): Promise<void>;
}

export interface ReplayCounts {
  /** Events the receipts list in the range (of the account, with --account). */
  read: number;
  /** Sent to the queue; with --dry-run, what would be. */
  sent: number;
  /** Listed by a receipt but gone when fetched: expired meanwhile, or never stored (its record was dead-lettered). */
  missing: number;
  /** Rows whose envelope could not be rebuilt (no resource, event, account or payload). */
  unreadable: number;
}

export interface ReplayReport {
  readonly days: number;
  readonly totals: ReplayCounts;
  /** Per account, in the order first met. */
  readonly accounts: ReadonlyMap<string, ReplayCounts>;
}

export interface ReplayProgress {
  readonly day: number;
  readonly days: number;
  readonly read: number;
  readonly sent: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * The payload as persist stored it. `data_z` (and an older layout's `data_gz`) is read with the JSON parser that
 * keeps integers beyond 2^53 exact: the digest of a rounded id would not be the stored one.
 */
const storedData = (row: Item): JsonObject | undefined => {
  if (row.data_z instanceof Uint8Array) return decodePayload({ data_z: row.data_z }, parseJson);
  if (row.data_gz instanceof Uint8Array) return decodePayload({ data_gz: row.data_gz }, parseJson);
  // The map form as the document client reads it: numbers beyond 2^53 come back as bigints, written exact below.
  return isPlainObject(row.data) ? decodePayload({ data: row.data as JsonObject }) : undefined;
};

/** The event a row records, as ingest first queued it; undefined for a row that does not say enough. */
export const replayedEvent = (row: Item): ReplayedEvent | undefined => {
  const { resource, event, timestamp, account, received_at: receivedAt } = row;
  if (typeof resource !== 'string' || typeof event !== 'string') return undefined;
  if (typeof account !== 'string' || account === '') return undefined;
  if (typeof receivedAt !== 'number' || !Number.isSafeInteger(receivedAt)) return undefined;
  let data: JsonObject | undefined;
  try {
    data = storedData(row);
  } catch {
    // Gzip or JSON that does not read: counted unreadable, like a row with no payload.
    return undefined;
  }
  if (data === undefined) return undefined;
  // Without a timestamp persist orders by 0; the row has none exactly when the event had none.
  const envelope = { resource, event, ...(typeof timestamp === 'number' ? { timestamp } : {}), data };
  return { envelope, account, receivedAt };
};

const keyOf = (row: Item | EventKey): string => `${String(row.pk)}\u0000${String(row.sk)}`;

const zero = (): ReplayCounts => ({ read: 0, sent: 0, missing: 0, unreadable: 0 });

/**
 * Reads the range day by day, each account's receipts of the day in turn, and sends each page's events as it goes,
 * so memory holds one page at a time.
 */
export const replay = async (
  request: { readonly range: TimeRange; readonly accounts: readonly string[] },
  deps: {
    readonly events: StoredEvents;
    /** Absent for a dry run: nothing is sent. */
    readonly sink: ReplaySink | undefined;
    readonly onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<ReplayReport> => {
  const days = utcDays(request.range);
  const range = { fromMs: request.range.from * 1000, toMs: request.range.to * 1000 + 999 };
  const totals = zero();
  const accounts = new Map<string, ReplayCounts>();
  const countsOf = (account: string): ReplayCounts => {
    let counts = accounts.get(account);
    if (counts === undefined) {
      counts = zero();
      accounts.set(account, counts);
    }
    return counts;
  };
  const add = (account: string, field: keyof ReplayCounts): void => {
    totals[field] += 1;
    countsOf(account)[field] += 1;
  };
  const progress = (day: number): void =>
    deps.onProgress?.({ day, days: days.length, read: totals.read, sent: totals.sent });

  progress(0);
  for (const [index, day] of days.entries()) {
    for (const account of request.accounts) {
      for await (const listed of deps.events.receivedOn({ account, day, ...range })) {
        for (const entry of listed) add(entry.account, 'read');
        const fetched = new Map((await deps.events.rows(listed)).map((row) => [keyOf(row), row]));
        const events: ReplayedEvent[] = [];
        // In the receipts' order, the order of arrival, whatever order BatchGetItem answered in.
        for (const entry of listed) {
          const whole = fetched.get(keyOf(entry));
          if (whole === undefined) {
            add(entry.account, 'missing');
            continue;
          }
          const replayed = replayedEvent(whole);
          if (replayed === undefined) add(entry.account, 'unreadable');
          else events.push(replayed);
        }
        if (deps.sink !== undefined && events.length > 0) await deps.sink.send(events);
        for (const event of events) add(event.account, 'sent');
        progress(index);
      }
    }
    progress(index + 1);
  }
  return { days: days.length, totals, accounts };
};

/** The message persist expects: the envelope as the body, account and receive time as attributes. */
export const replayMessage = (event: ReplayedEvent, id: string): OutgoingMessage => ({
  id,
  // An integer beyond 2^53 is written with its digits, as persist's parser reads it back exactly.
  body: JSON.stringify(event.envelope, jsonReplacer),
  attributes: {
    [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: event.account },
    [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: String(event.receivedAt) },
  },
});

/** Sends to the events queue; a refused entry fails the run, naming SQS's code only (its message may quote the body). */
export const sqsReplaySink = (client: SQSClient, queueUrl: string): ReplaySink => ({
  send: async (events) => {
    const { failed } = await sendMessages(
      client,
      queueUrl,
      events.map((event, index) => replayMessage(event, String(index))),
    );
    if (failed.length > 0)
      throw new Error(`${failed.length} events were not queued (${failed[0]?.code ?? 'no code'})`);
  },
});

/** The range: both ends are required, so that a replay never covers more than was meant. */
export const parseReplayRange = (from: string | undefined, to: string | undefined, now: Date): TimeRange => {
  if (from === undefined || from === '') throw new UsageError('--from is required: where the range starts');
  if (to === undefined || to === '') throw new UsageError('--to is required: where the range ends');
  const range = parseRange(from, to, now);
  // A day-keyed listing refuses an absurd span; finding out before any stack is looked up keeps it a usage error.
  utcDays(range);
  return range;
};

export interface ReplayContext {
  readonly range: TimeRange;
  readonly account: string | undefined;
  readonly dryRun: boolean;
  readonly label: string;
}

const countsJson = (counts: ReplayCounts, dryRun: boolean) => ({
  read: counts.read,
  sent: dryRun ? 0 : counts.sent,
  ...(dryRun ? { would_send: counts.sent } : {}),
  missing: counts.missing,
  unreadable: counts.unreadable,
});

/** The summary as --json prints it. */
export const replayJson = (report: ReplayReport, context: ReplayContext) => ({
  from: isoSeconds(context.range.from),
  to: isoSeconds(context.range.to),
  ...(context.account === undefined ? {} : { account: context.account }),
  dry_run: context.dryRun,
  days: report.days,
  ...countsJson(report.totals, context.dryRun),
  ...(context.account === undefined
    ? {
        accounts: Object.fromEntries(
          [...report.accounts].map(([account, counts]) => [account, countsJson(counts, context.dryRun)]),
        ),
      }
    : {}),
});

const countsText = (counts: ReplayCounts, dryRun: boolean): string => {
  const parts = [`${counts.read} read`, dryRun ? `${counts.sent} would be sent` : `${counts.sent} sent`];
  if (counts.missing > 0) parts.push(`${counts.missing} listed but not stored`);
  if (counts.unreadable > 0) parts.push(`${counts.unreadable} unreadable`);
  return parts.join(', ');
};

/** The summary as a person reads it. */
export const formatReplaySummary = (report: ReplayReport, context: ReplayContext): string => {
  const { totals } = report;
  const whose = context.account === undefined ? '' : ` of account ${context.account}`;
  const header = `Replay of the events${whose} received from ${isoSeconds(context.range.from)} to ${isoSeconds(context.range.to)}, ${context.label}${context.dryRun ? ' (dry run)' : ''}`;
  const fields: [string, string][] = [
    ['days', String(report.days)],
    ['read', String(totals.read)],
    [
      'sent',
      context.dryRun
        ? `nothing (dry run): a run would send ${totals.sent} events`
        : `${totals.sent} events to the events queue`,
    ],
  ];
  if (totals.missing > 0)
    fields.push([
      'not stored',
      `${totals.missing} (listed, but no row: expired since, or its record went to the dead-letter queue)`,
    ]);
  if (totals.unreadable > 0)
    fields.push(['unreadable', `${totals.unreadable} (not sent: no envelope to rebuild)`]);
  if (context.account === undefined)
    for (const [account, counts] of report.accounts)
      fields.push([`account ${account}`, countsText(counts, context.dryRun)]);
  return `${header}\n${formatFields(fields)}`;
};

export const replayCommand: Command = {
  name: 'replay',
  summary: 'send the stored events of a time range back through persist',
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('replay takes no arguments');
    const range = parseReplayRange(values.from, values.to, io.now());
    if (values.account === '') throw new UsageError('--account needs a name');
    const account = values.account;
    const dryRun = values['dry-run'] === true;
    const target = await open(targetOptions(values));
    const eventsTable = requireTable(target, 'events');
    let sink: ReplaySink | undefined;
    if (!dryRun) {
      const queue = target.eventsQueue;
      if (queue === undefined)
        throw new TargetError(
          `No events queue known for ${target.label}: pass --stack, whose EventsQueueUrl output names it`,
        );
      // Looked up before the first read, so a run that cannot send stops before it reads a day.
      sink = sqsReplaySink(queue.client(), await queue.url());
    }
    const events: StoredEvents = {
      receivedOn: (request) => receivedOnDay(target.documents, eventsTable, request),
      rows: (keys) => eventRows(target.documents, eventsTable, keys),
    };
    // Every account's receipts, one account's with --account: a single company's stack has one.
    const accounts =
      account === undefined
        ? await listAccounts(target.documents, requireTable(target, 'accounts'))
        : [account];
    const line = progressLine(io);
    let report: ReplayReport;
    try {
      report = await replay(
        { range, accounts },
        {
          events,
          sink,
          onProgress: ({ day, days, read, sent }) =>
            line.draw(
              `days ${progressBar(day, days, 20)}  events ${read} read, ${sent} ${dryRun ? 'to send' : 'sent'}`,
              day === days,
            ),
        },
      );
    } finally {
      line.end();
    }
    const context = { range, account, dryRun, label: target.label };
    io.stdout(
      values.json === true ? formatJson(replayJson(report, context)) : formatReplaySummary(report, context),
    );
    return 0;
  },
};
