// `migrate`: copy a deployment's calls and events from the first table layout's tables into the second's, once,
// after the deploy that created them; safe to repeat, and to run again after an interruption.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoReceiptLog } from '../../lambdas/persist/adapters.js';
import { DynamoAccountStore, KnownAccounts } from '../../lambdas/shared/accounts.js';
import { DOCUMENT_MARSHALL_OPTIONS } from '../../lib/definitions/json.js';
import { localClientTarget } from '../../local/clients.js';
import { legacyTables } from '../../local/legacy-tables.js';
import {
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  parseCount,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { UsageError } from '../errors.js';
import { formatFields, formatJson } from '../format.js';
import {
  type CallsTally,
  copyCalls,
  copyEvents,
  type EventsTally,
  type FailedItem,
  type MigratedTable,
} from '../migration.js';
import { progressLine } from '../progress.js';
import { requireTable, type Target } from '../target.js';
import { exactNumber } from '../upgrade.js';

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  'from-calls': { type: 'string' },
  'from-events': { type: 'string' },
  'dry-run': { type: 'boolean' },
  segments: { type: 'string' },
} as const;

const DEFAULT_SEGMENTS = 4;
// Each segment keeps up to 25 writes in flight: past this many the sockets, not DynamoDB, set the pace.
const MAX_SEGMENTS = 64;
// Throttled writes are retried by the SDK with its own backoff; this many attempts ride out a table's ramp-up.
const DEPLOYED_ATTEMPTS = 10;
// The keys of failed items printed; the count says how many there were in all.
const SHOWN_FAILURES = 10;

const usage = `Usage: ${PROGRAM} migrate --from-calls <table> --from-events <table> [--dry-run] [--segments <n>] [--json]`;

const help = `${usage}

Copies a stack's calls and events from the tables of the first layout into those of the second, once,
after the deploy that created them (CallsTableV2 and EventsTableV2; calls-v2 and events-v2 locally).
Each item is upgraded to what persist now writes: the payload compressed under data_z, account_day and
account_missed_day in place of started_day and missed_day, the plain recording and voicemail links
without their query, and every event row listed by a receipt, where replay and the listings by time
find it. Users, numbers, contacts, webhooks and accounts keep their tables and need nothing.

Safe to repeat, and to run again after an interruption. A call is put only when the new table lacks
it; when persist has written it there since the deploy, its state, each insight and each archive
record are merged under the guards persist and the archive use, so newer state is never replaced and
the new item keeps what only the old one had. An event row is put only when absent; rows past their
expires_at are not copied. A second run writes nothing.

  --from-calls <table>   the first layout's calls table (local stack: calls, when it is there)
  --from-events <table>  the first layout's events table (local stack: events, when it is there)
  --dry-run              read, upgrade and compare with the new tables, but write nothing: the summary
                         says what a run would write
  --segments <n>         parallel Scan segments per table, 1 to ${MAX_SEGMENTS} (default: ${DEFAULT_SEGMENTS})
  --json                 the summary as a JSON object on stdout

Against a deployed stack both --from options are required: the old tables stay in the account under
their generated names (see \`aws dynamodb list-tables\` or the stack's resources in the CloudFormation
console). On a terminal, stderr shows the items scanned per table.

Exits 1 when an item could not be copied (the first ${SHOWN_FAILURES} keys are printed); running it again copies
what is still missing.

${TARGET_HELP}
  The tables copied into are the target's calls and events tables.
`;

export interface MigrationTables {
  readonly calls: { readonly from: string; readonly to: string };
  readonly events: { readonly from: string; readonly to: string };
}

export interface MigrationReport {
  readonly tables: MigrationTables;
  readonly dryRun: boolean;
  readonly calls: CallsTally;
  readonly events: EventsTally;
  /** Every item not copied, and the first of them by key. */
  readonly failed: number;
  readonly failures: readonly FailedItem[];
  readonly seconds: number;
}

/**
 * The command's own client. Reads keep every digit of a number (exactNumber); writes marshal as persist's client
 * does (lambdas/persist/handler.ts, persistDependencies), so that a copied item is the item persist would write.
 * lib-dynamodb keeps one translation per DynamoDBClient, so the target's client, whose reads round 64-bit numbers
 * to bigints, cannot lend its own.
 */
const migrationClient = (target: Target, region: string | undefined) => {
  const dynamo = new DynamoDBClient(
    target.localEndpoint === undefined
      ? { ...(region === undefined ? {} : { region }), maxAttempts: DEPLOYED_ATTEMPTS }
      : // A refused connection will not heal within a retry's backoff; dynalite never throttles.
        { ...localClientTarget(target.localEndpoint), maxAttempts: 1 },
  );
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: DOCUMENT_MARSHALL_OPTIONS,
    unmarshallOptions: { wrapNumbers: exactNumber },
  });
  return { dynamo, documents };
};

interface SourceOptions {
  readonly 'from-calls'?: string | undefined;
  readonly 'from-events'?: string | undefined;
}

const FLAGS: Readonly<Record<MigratedTable, keyof SourceOptions>> = {
  calls: 'from-calls',
  events: 'from-events',
};

/**
 * The tables to copy from and into. Locally a source not named defaults to the first layout's table of the same
 * name when the local DynamoDB holds it; a source that is a table in use is refused, as copying a table into
 * itself would only rewrite it.
 */
const migrationTables = async (
  values: SourceOptions,
  target: Target,
  dynamo: DynamoDBClient,
): Promise<MigrationTables> => {
  const destination = { calls: requireTable(target, 'calls'), events: requireTable(target, 'events') };
  const legacy =
    values['from-calls'] !== undefined && values['from-events'] !== undefined
      ? []
      : await legacyTables(dynamo, target);
  const source = (table: MigratedTable): string => {
    const flag = FLAGS[table];
    const name = values[flag] ?? legacy.find((found) => found.table === table)?.name;
    if (name === undefined)
      throw new UsageError(
        `--${flag} is needed: the local DynamoDB (${target.label}) holds no ${table} table of the first layout`,
      );
    if (Object.values(destination).includes(name))
      throw new UsageError(
        `--${flag} names ${name}, a table of the new layout: name the first layout's ${table} table`,
      );
    return name;
  };
  const calls = source('calls');
  const events = source('events');
  if (calls === events) throw new UsageError(`--from-calls and --from-events both name ${calls}`);
  return { calls: { from: calls, to: destination.calls }, events: { from: events, to: destination.events } };
};

/** A count as the summary gives it: what was written, or in a dry run what would be. */
const writtenJson = (count: number, dryRun: boolean) =>
  dryRun ? { written: 0, would_write: count } : { written: count };

/** The summary as --json prints it. */
export const migrateJson = (report: MigrationReport) => {
  const { calls, events, dryRun, tables } = report;
  return {
    dry_run: dryRun,
    calls: {
      ...tables.calls,
      scanned: calls.scanned,
      ...writtenJson(calls.written, dryRun),
      kept: calls.kept,
      failed: calls.failed,
    },
    events: {
      ...tables.events,
      scanned: events.scanned,
      ...writtenJson(events.written, dryRun),
      present: events.present,
      expired: events.expired,
      failed: events.failed,
    },
    ...(dryRun
      ? { receipts_written: 0, receipts_would_write: events.receipts }
      : { receipts_written: events.receipts }),
    failed_items: report.failures.map(({ table, key, reason }) => ({ table, key, reason })),
    seconds: report.seconds,
  };
};

/** The summary as a person reads it. */
export const formatMigrateSummary = (report: MigrationReport, label: string): string => {
  const { calls, events, dryRun, tables } = report;
  const written = (count: number) => (dryRun ? `${count} would be written` : `${count} written`);
  return `Migration into ${label}${dryRun ? ' (dry run: nothing written)' : ''}\n${formatFields([
    [
      'calls',
      `${tables.calls.from} -> ${tables.calls.to}: ${calls.scanned} scanned, ${written(calls.written)}, ` +
        `${calls.kept} kept (already as new or newer in ${tables.calls.to}), ${calls.failed} failed`,
    ],
    [
      'events',
      `${tables.events.from} -> ${tables.events.to}: ${events.scanned} scanned, ${written(events.written)}, ` +
        `${events.present} present (already there), ${events.expired} expired (not copied), ${events.failed} failed`,
    ],
    ['receipts', written(events.receipts)],
    ['time', `${report.seconds} s`],
  ])}`;
};

const formatFailures = (report: MigrationReport): string => {
  const more = report.failed - report.failures.length;
  return [
    `${report.failed} item${report.failed === 1 ? '' : 's'} not copied; once the cause is fixed, running it again copies what is missing:`,
    ...report.failures.map(({ table, key, reason }) => `  ${table} ${key}: ${reason}`),
    ...(more > 0 ? [`  and ${more} more`] : []),
    '',
  ].join('\n');
};

export const migrateCommand: Command = {
  name: 'migrate',
  summary: "copy the first table layout's calls and events into the new tables (once, after the deploy)",
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('migrate takes no arguments');
    const segments =
      values.segments === undefined ? DEFAULT_SEGMENTS : parseCount(values.segments, '--segments', 1);
    if (segments > MAX_SEGMENTS)
      throw new UsageError(`--segments takes at most ${MAX_SEGMENTS}, got ${segments}`);
    const deployed = values.stack !== undefined || values.region !== undefined;
    if (deployed && (values['from-calls'] === undefined || values['from-events'] === undefined))
      throw new UsageError(
        "--from-calls and --from-events are required against a deployed stack: the first layout's tables, as `aws dynamodb list-tables` or the CloudFormation console names them",
      );
    const dryRun = values['dry-run'] === true;
    const target = await open(targetOptions(values));
    const { dynamo, documents } = migrationClient(target, values.region);
    try {
      const tables = await migrationTables(values, target, dynamo);
      const started = performance.now();
      const failures: FailedItem[] = [];
      let failed = 0;
      const onFailure = (failure: FailedItem): void => {
        failed += 1;
        if (failures.length < SHOWN_FAILURES) failures.push(failure);
      };
      const line = progressLine(io);
      const scanned = { calls: 0, events: 0 };
      const draw = (force = false): void =>
        line.draw(`calls ${scanned.calls} scanned  events ${scanned.events} scanned`, force);
      // A stack's listings of every account read the accounts table: a company known only from the old tables joins it.
      const accountsTable = target.tables.accounts;
      const accounts =
        accountsTable === undefined
          ? undefined
          : new KnownAccounts(new DynamoAccountStore(documents, accountsTable), () => io.now().getTime());
      const common = {
        client: documents,
        segments,
        dryRun,
        onFailure,
        ...(accounts === undefined ? {} : { accounts }),
      };
      let copying: MigratedTable = 'calls';
      let calls: CallsTally;
      let events: EventsTally;
      try {
        calls = await copyCalls({
          ...common,
          ...tables.calls,
          onScanned: (count) => {
            scanned.calls = count;
            draw();
          },
        });
        copying = 'events';
        events = await copyEvents({
          ...common,
          ...tables.events,
          nowSeconds: Math.floor(io.now().getTime() / 1000),
          receipts: new DynamoReceiptLog(documents, tables.events.to),
          onScanned: (count) => {
            scanned.events = count;
            draw();
          },
        });
        draw(true);
      } catch (error) {
        line.end();
        // The error itself follows, explained as every command's is.
        io.stderr(
          `migrate stopped while copying ${copying} from ${tables[copying].from}: what was copied stays, and running it again copies the rest.\n`,
        );
        throw error;
      }
      line.end();
      const report: MigrationReport = {
        tables,
        dryRun,
        calls,
        events,
        failed,
        failures,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      };
      io.stdout(
        values.json === true ? formatJson(migrateJson(report)) : formatMigrateSummary(report, target.label),
      );
      if (failed === 0) return 0;
      io.stderr(formatFailures(report));
      return 1;
    } finally {
      dynamo.destroy();
    }
  },
};
