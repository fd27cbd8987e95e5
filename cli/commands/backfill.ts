// `backfill`: read an account's calls of a time range, and its users, numbers and contacts, from Aircall's API, and
// queue on the stack's events queue those that would change what is stored.

import { DynamoStoredState, SqsEventSink } from '../../lambdas/reconcile/adapters.js';
import type { ApiReader, EventSink, StoredState } from '../../lambdas/reconcile/ports.js';
import {
  type PageProgress,
  type ReconcileCounts,
  type ReconcileDeps,
  type ReconcileReport,
  type ReconcileRequest,
  reconcile,
} from '../../lambdas/reconcile/reconcile.js';
import { AircallApiError, AircallListingCapError } from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { FETCHED_RESOURCES, type FetchedResource } from '../../lib/definitions/fetched.js';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import { perStateTable } from '../../lib/definitions/tables.js';
import {
  AIRCALL_OPTIONS,
  aircallHelp,
  apiUrlFor,
  credentialsOf,
  LOCAL_DEFAULT_ACCOUNT,
  namedAccount,
  requireNamedAccount,
} from '../aircall.js';
import {
  type CliIo,
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { CliError, CommandFailedError, TargetError, UsageError } from '../errors.js';
import { formatFields, formatJson, progressBar } from '../format.js';
import { requireTable, type Target } from '../target.js';
import { isoSeconds, parseRange, type TimeRange } from '../time.js';

/** The resources as the command line names them, in the order they are read: calls first. */
export const RESOURCE_OPTIONS: Readonly<Record<string, FetchedResource>> = {
  calls: 'call',
  users: 'user',
  numbers: 'number',
  contacts: 'contact',
};

const PLURAL: Readonly<Record<FetchedResource, string>> = {
  call: 'calls',
  user: 'users',
  number: 'numbers',
  contact: 'contacts',
};

// The client asks for Aircall's largest page, so a listing of n objects takes ceil(n / 50) requests.
const PAGE_SIZE = 50;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  ...AIRCALL_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  resources: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

const usage = `Usage: ${PROGRAM} backfill --from <time> [--to <time>] [--account <name>] [--resources calls,users,numbers,contacts] [--dry-run] [--json]`;

const help = `${usage}

Reads one Aircall account through its Public API and queues what it finds on the stack's events queue,
where persist stores it as it stores webhook events: the calls started in [--from, --to], and every
user, number and contact (those listings are read whole, not by time). Each object goes through the
same state rules as a webhook event, checked against the stored state before it is sent: one already
stored at that state or a later one is counted unchanged and not sent, so a second run over the same
window sends nothing when Aircall's data has not changed. An object stored under another account is
counted foreign and not sent.

  --from <time>           start of the call window (required)
  --to <time>             end of the call window, inclusive (default: now)
                          a time is UNIX seconds, a date (2022-03-04, UTC; as --to, the whole day)
                          or a datetime (2022-03-04T10:30:00Z; UTC unless it carries an offset)
  --resources <list>      what to read, comma-separated, among calls, users, numbers, contacts
                          (default: all four; calls are read first)
  --dry-run               read the API and compare with the stored state, but send nothing: the
                          summary says what a run would send
  --json                  the summary as a JSON object on stdout

Requests are spaced ${GUARDIAN.minRequestIntervalMs} ms apart, under Aircall's 120 a minute per company; a 429 is waited out.
On a terminal, stderr shows the pages and calls read and an estimate of the time left in the
current listing. A window of more than 10,000 calls, Aircall's cap on one listing, is split.

${aircallHelp("the name the events are stored under: the one its webhooks' tokens are\n                          registered under, or persist refuses the writes")}

--stack always wins over the environment: an AIRCALL_API_URL left in the shell for the local stack is
not used against a deployed one.

${TARGET_HELP}
  The events queue is the local stack's, or a deployed stack's EventsQueueUrl output (with --stack).
`;

/** The resources `--resources` names, as the engine knows them, in reading order: calls, users, numbers, contacts. */
export const parseResources = (text: string | undefined): FetchedResource[] => {
  if (text === undefined) return [...FETCHED_RESOURCES];
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const valid = Object.keys(RESOURCE_OPTIONS).join(', ');
  const unknown = names.filter((name) => !Object.hasOwn(RESOURCE_OPTIONS, name));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown resource ${unknown.map((n) => `"${n}"`).join(', ')}: --resources takes ${valid}`,
    );
  if (names.length === 0) throw new UsageError(`--resources needs at least one of ${valid}`);
  const asked = new Set(names.map((name) => RESOURCE_OPTIONS[name]));
  return FETCHED_RESOURCES.filter((resource) => asked.has(resource));
};

/** The call window: --from is required, --to defaults to now; a date as --to means its whole day. */
export const parseWindow = (from: string | undefined, to: string | undefined, now: Date): TimeRange => {
  if (from === undefined || from === '')
    throw new UsageError('--from is required: where the call window starts');
  return parseRange(from, to, now);
};

const duration = (seconds: number): string => {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  return whole % 60 === 0 ? `${minutes} min` : `${minutes} min ${whole % 60} s`;
};

/** How far the listing being read has got, kept between two pages. */
export interface ListingProgress {
  readonly pages: number;
  readonly items: number;
}

/**
 * One progress line: the listing being read (for calls, its window), objects read of the total Aircall announced,
 * pages in all, and the time the rest of this listing takes at one request per interval. Built from counts and
 * times only: nothing Aircall sent, no link and no credential, is ever in it.
 */
export const progressLine = (progress: PageProgress, listing: ListingProgress): string => {
  const what =
    progress.window === undefined
      ? PLURAL[progress.resource]
      : `calls ${isoSeconds(progress.window.from)}..${isoSeconds(progress.window.to)}`;
  const parts = [what];
  if (progress.total === undefined) parts.push(`${listing.items} read`);
  else {
    parts.push(progressBar(Math.min(listing.items, progress.total), progress.total, 20));
    const left = Math.ceil(Math.max(0, progress.total - listing.items) / PAGE_SIZE);
    parts.push(`~${duration((left * GUARDIAN.minRequestIntervalMs) / 1000)} left in this listing`);
  }
  parts.push(`${progress.counts.pages} pages in all`);
  return parts.join('  ');
};

export interface BackfillDeps {
  readonly reader: ApiReader;
  readonly stored: StoredState;
  readonly sink: EventSink;
  /** Reads and predicts, but sends nothing to `sink`. */
  readonly dryRun: boolean;
  readonly io: Pick<CliIo, 'stderr' | 'stderrIsTty' | 'now'>;
  /** Where the events go, for messages. */
  readonly label: string;
}

/** A sink whose failures read as the command's own, the queue named. */
const namedSink = (sink: EventSink, label: string): EventSink => ({
  send: async (account, envelopes) => {
    try {
      await sink.send(account, envelopes);
    } catch (error) {
      if (error instanceof CliError) throw error;
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new CommandFailedError(`Could not queue events on the events queue of ${label}: ${detail}`, {
        cause: error,
      });
    }
  },
});

/** A dry run's: the engine sends nothing then, and should that change this says so at once, before the queue is known. */
const refusingSink: EventSink = {
  send: () => Promise.reject(new Error('a dry run sends nothing')),
};

const sentOf = (counts: ReconcileCounts): number => counts.new + counts.updated;

/**
 * Runs the engine with a progress line on a terminal, and turns Aircall's refusals into the command's failure, saying
 * how far it got: what was queued stays queued, and a new run sends only what is still missing.
 */
export const runBackfill = async (
  request: ReconcileRequest,
  deps: BackfillDeps,
): Promise<ReconcileReport> => {
  const { dryRun } = deps;
  let drawn = false;
  let counts: ReconcileCounts | undefined;
  let listingKey: string | undefined;
  let listing: ListingProgress = { pages: 0, items: 0 };
  const onPage = (progress: PageProgress): void => {
    counts = progress.counts;
    const key =
      progress.window === undefined
        ? progress.resource
        : `call:${progress.window.from}:${progress.window.to}`;
    if (key !== listingKey) {
      listingKey = key;
      listing = { pages: 0, items: 0 };
    }
    listing = { pages: listing.pages + 1, items: listing.items + progress.items };
    if (!deps.io.stderrIsTty) return;
    // Erased to the end of the line: a shorter line would leave the end of the one before.
    deps.io.stderr(`\r${progressLine(progress, listing)}\u001b[K`);
    drawn = true;
  };
  const engine: ReconcileDeps = {
    reader: deps.reader,
    stored: deps.stored,
    sink: namedSink(deps.sink, deps.label),
    isListingCap: (error) => error instanceof AircallListingCapError,
    now: () => deps.io.now().getTime(),
    dryRun,
    onPage,
  };
  try {
    return await reconcile(request, engine);
  } catch (error) {
    if (!(error instanceof AircallApiError)) throw error;
    const pages = counts?.pages ?? 0;
    const queued = dryRun ? '' : `, ${counts === undefined ? 0 : sentOf(counts)} events queued`;
    throw new CommandFailedError(
      `Backfill of account ${request.account} stopped after ${pages} pages${queued}: ${error.message}\nWhat was queued stays queued; running it again sends only what is still missing.`,
      { cause: error },
    );
  } finally {
    if (drawn) deps.io.stderr('\n');
  }
};

export interface SummaryContext {
  readonly window: TimeRange;
  readonly resources: readonly FetchedResource[];
  readonly dryRun: boolean;
  readonly label: string;
}

/** The summary as --json prints it: counts by name, the resources in their command-line spelling. */
export const summaryJson = (report: ReconcileReport, context: SummaryContext) => {
  const { counts } = report;
  const sent = sentOf(counts);
  return {
    account: report.account,
    from: isoSeconds(context.window.from),
    to: isoSeconds(context.window.to),
    resources: context.resources.map((resource) => PLURAL[resource]),
    dry_run: context.dryRun,
    fetched: Object.fromEntries(
      context.resources.map((resource) => [PLURAL[resource], report.fetched[resource]]),
    ),
    new: counts.new,
    updated: counts.updated,
    unchanged: counts.unchanged,
    foreign: counts.foreign,
    pages: counts.pages,
    windows_split: counts.splits,
    sent: context.dryRun ? 0 : sent,
    ...(context.dryRun ? { would_send: sent } : {}),
  };
};

/** The summary as a person reads it. */
export const formatBackfillSummary = (report: ReconcileReport, context: SummaryContext): string => {
  const { counts } = report;
  const sent = sentOf(counts);
  const byResource = context.resources.map((r) => `${PLURAL[r]} ${report.fetched[r]}`).join(', ');
  const header = `Backfill of account ${report.account}, calls from ${isoSeconds(context.window.from)} to ${isoSeconds(context.window.to)}, into ${context.label}${context.dryRun ? ' (dry run)' : ''}`;
  return `${header}\n${formatFields([
    ['fetched', `${counts.fetched} (${byResource})`],
    ['new', String(counts.new)],
    ['updated', String(counts.updated)],
    ['unchanged', String(counts.unchanged)],
    [
      'foreign',
      `${counts.foreign}${counts.foreign > 0 ? ' (stored under another account: not sent, persist refuses them)' : ''}`,
    ],
    ['pages', String(counts.pages)],
    ['windows split', String(counts.splits)],
    [
      'sent',
      context.dryRun
        ? `nothing (dry run): a run would send ${sent} events`
        : `${sent} events to the events queue`,
    ],
  ])}`;
};

/** The queue the events go to, or an error telling how to name a target that has one. */
const requireEventsQueue = (target: Target) => {
  if (target.eventsQueue === undefined)
    throw new TargetError(
      `No events queue known for ${target.label}: pass --stack, whose EventsQueueUrl output names it`,
    );
  return target.eventsQueue;
};

export const backfillCommand: Command = {
  name: 'backfill',
  summary: "queue an account's calls, users, numbers and contacts read from Aircall's API",
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('backfill takes no arguments');
    const resources = parseResources(values.resources);
    const window = parseWindow(values.from, values.to, io.now());
    const dryRun = values['dry-run'] === true;
    const named = namedAccount(values, io.env);
    const credentials = credentialsOf(values, io.env, named ?? LOCAL_DEFAULT_ACCOUNT);
    const target = await open(targetOptions(values));
    requireNamedAccount(named, target);
    const stored = new DynamoStoredState(
      target.documents,
      perStateTable((table) => requireTable(target, table)),
    );
    let sink = refusingSink;
    if (!dryRun) {
      const queue = requireEventsQueue(target);
      // Looked up before the first request to Aircall, whose rate limit a run that cannot send would waste.
      sink = new SqsEventSink(queue.client(), await queue.url(), () => io.now().getTime());
    }
    // Built once the target is known: which API URL applies depends on it.
    const reader = new AircallClient({
      credentials,
      baseUrl: apiUrlFor(target, values['api-url'], io.env),
      minIntervalMs: GUARDIAN.minRequestIntervalMs,
    });
    const report = await runBackfill(
      { account: credentials.account, window, resources },
      { reader, stored, sink, dryRun, io, label: target.label },
    );
    const context = { window, resources, dryRun, label: target.label };
    io.stdout(
      values.json === true
        ? formatJson(summaryJson(report, context))
        : formatBackfillSummary(report, context),
    );
    return 0;
  },
};
