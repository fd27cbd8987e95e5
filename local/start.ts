// `npm start`: runs the local stack until Ctrl-C, printing where everything is and what it is doing.

import { relative, resolve } from 'node:path';
import type { AccountReport } from '../lambdas/guardian/guardian.js';
import { TABLE_NAMES } from '../lib/definitions/tables.js';
import { devTokenPath } from './dev-token.js';
import { legacyTablesAt } from './legacy-tables.js';
import { LOCAL_DEFAULTS, type LocalSettings, readLocalExtras, readLocalSettings } from './settings.js';
import { type Activity, type LocalStack, startLocalStack } from './stack.js';

// Everything this process writes is its owner's alone: dynalite's LevelDB makes its files as it goes, with
// modes no option sets. DATA_DIR and what is already in it get their modes set outright at start (data-dir.ts).
process.umask(0o077);

const ACTIVITY_INTERVAL_MS = 5000;

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A path under the working directory relative to it, anything else as it is. */
const shownPath = (path: string): string => {
  const shown = relative(process.cwd(), path);
  return shown === '' ? '.' : shown.startsWith('..') ? path : shown;
};

/** The CLI finds the stack through DATA_DIR; a hint names it only when it is not the default the CLI reads. */
const cliPrefix = (dataDir: string): string =>
  resolve(LOCAL_DEFAULTS.DATA_DIR) === dataDir ? '' : `DATA_DIR=${shownPath(dataDir)} `;

const banner = (
  stack: LocalStack,
  settings: LocalSettings,
  seconds: number,
  guardianSeconds: number,
): string => {
  const example = 'examples/call.ended.json';
  const tokenSource =
    settings.token === undefined
      ? `kept in ${shownPath(devTokenPath(settings.dataDir))}`
      : 'LOCAL_WEBHOOK_TOKEN';
  const revoked =
    stack.revokedTokens > 0
      ? `\n               ${stack.revokedTokens} dev token${stack.revokedTokens === 1 ? '' : 's'} of earlier starts removed from the registry`
      : '';
  const { queue, deadLetterQueue } = stack.queuedAtStart;
  const released =
    stack.released > 0 ? `, ${stack.released} of them released from its unfinished batches` : '';
  const dead = deadLetterQueue > 0 ? `; ${deadLetterQueue} in the dead-letter queue` : '';
  const held =
    queue + deadLetterQueue > 0 ? `  (${queue} events still queued from the last run${released}${dead})` : '';
  return [
    '',
    `aircall-webhook-stack is running locally on Node.js ${process.versions.node} (ready in ${seconds.toFixed(1)} s)`,
    '',
    `  Webhook URL  ${stack.webhookUrl}`,
    `  Dev token    ${stack.token}  (account "${settings.account}", ${tokenSource})${revoked}`,
    `  DynamoDB     ${stack.endpoints.dynamodb}  tables: ${TABLE_NAMES.map((name) => settings.tables[name]).join(', ')}`,
    `  SQS          ${stack.endpoints.sqs}  queues: ${settings.queues.queue}, ${settings.queues.deadLetterQueue}, ${settings.media.queue}, ${settings.media.deadLetterQueue}`,
    `  S3           ${stack.endpoints.s3}  bucket: ${settings.media.bucket}, recordings and voicemails (same server as SQS)`,
    `  Data         ${shownPath(settings.dataDir)}${held}`,
    ...(stack.simulator === undefined
      ? []
      : [
          `  Simulator    ${stack.simulator.simulator.apiUrl}  webhook ${stack.simulator.webhookId} sends live traffic here`,
          // Made at random for this start: printed so that the simulated company can be used by hand.
          `               account ${stack.simulator.credentials.account}  api_id ${stack.simulator.credentials.apiId}  api_token ${stack.simulator.credentials.apiToken}`,
        ]),
    ...(stack.guardian === undefined ? [] : [`  Guardian     every ${guardianSeconds} s (and at start)`]),
    '',
    '  Try it:',
    `    ${cliPrefix(settings.dataDir)}npm run cli -- send ${example}    # posted with the dev token`,
    `    ${cliPrefix(settings.dataDir)}npm run cli -- calls 780836699`,
    ...(stack.simulator === undefined
      ? []
      : [`    ${cliPrefix(settings.dataDir)}npm run cli -- calls            # what the simulator delivered`]),
    '',
    `  Ctrl-C stops it. Queued events and stored data stay in ${shownPath(settings.dataDir)} for the next start.`,
    '',
  ].join('\n');
};

interface Depth {
  readonly queue: number;
  readonly deadLetterQueue: number;
}

const summary = (activity: Activity, depth: Depth, media: Depth): string => {
  const answers = Object.entries(activity.answers)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const archive =
    activity.archived + activity.archiveFailed + media.queue + media.deadLetterQueue > 0
      ? ` · media jobs done ${activity.archived}, queued ${media.queue}, dead ${media.deadLetterQueue}`
      : '';
  return `webhooks answered {${answers}} · persisted ${activity.persisted} · failed ${activity.failed} · queued ${depth.queue} · dead letters ${depth.deadLetterQueue}${archive}`;
};

const reportLine = (report: AccountReport): string => {
  if (!report.listed)
    return `[guardian] ${report.account}: could not list webhooks: ${report.error ?? 'unknown error'}`;
  const actions = report.webhooks.map((w) => `${w.webhookId} ${w.action}${w.detail ? ` (${w.detail})` : ''}`);
  const removed = report.removed.map((id) => `${id} removed from the registry`);
  return `[guardian] ${report.account}: ${[...actions, ...removed].join('; ') || 'no webhook points here'}`;
};

const main = async (): Promise<void> => {
  const started = Date.now();
  const settings = readLocalSettings();
  const extras = readLocalExtras(process.env, process.argv.slice(2));
  const simulatorGuardianIntervalMs = Math.min(extras.guardianIntervalMs, 30_000);
  let lastReport = '';
  const stack = await startLocalStack({
    settings,
    ...(extras.simulator === undefined ? {} : { simulator: extras.simulator }),
    ...(extras.guardian === undefined ? {} : { guardian: extras.guardian }),
    simulatorGuardianIntervalMs,
    onError: (error) => console.error(`[local] recovered from: ${describeError(error)}`),
    onGuardianReport: (report) => {
      // Quiet while nothing changes: a line when the guardian acted or its findings differ from the last pass.
      const line = reportLine(report);
      const acted = report.removed.length > 0 || report.webhooks.some((w) => w.action !== 'active');
      if (acted || line !== lastReport) console.log(line);
      lastReport = line;
    },
    onGapRepair: (repair) => {
      if (repair.gap === undefined || repair.report === undefined) return;
      const { counts, complete } = repair.report;
      const opened = repair.opened === undefined ? '' : ` (${repair.opened})`;
      console.log(
        `[guardian] ${repair.account}: gap ${new Date(repair.gap.from * 1000).toISOString()} to ` +
          `${new Date(repair.gap.to * 1000).toISOString()}${opened}: read ${counts.fetched} calls, ` +
          `${counts.new} new, ${counts.updated} updated, ${counts.unchanged} unchanged` +
          (complete ? '; done' : '; the next pass goes on'),
      );
    },
  });
  const guardianSeconds = (extras.guardian?.intervalMs ?? simulatorGuardianIntervalMs) / 1000;
  const readySeconds = (Date.now() - started) / 1000;
  console.log(banner(stack, settings, readySeconds, guardianSeconds));
  const legacy = await legacyTablesAt(stack.endpoints.dynamodb, settings);
  if (legacy.length > 0)
    console.log(
      `  Tables of an earlier layout found (${legacy.map((found) => found.name).join(', ')}): copy them with ${cliPrefix(settings.dataDir)}npm run cli -- migrate\n`,
    );
  stack.guardian?.runOnce().catch((error: unknown) => console.error(`[guardian] ${describeError(error)}`));

  let last = '';
  const ticker = setInterval(() => {
    const line = summary(stack.activity, stack.depth(), stack.mediaDepth());
    if (line !== last) console.log(`[local] ${line}`);
    last = line;
  }, ACTIVITY_INTERVAL_MS);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal means now: the queue is on disk, so what is not finished is redelivered at the next start.
      console.log(`\n[local] ${signal} again: stopping at once; unfinished batches go back to the queue`);
      process.exit(130);
    }
    stopping = true;
    clearInterval(ticker);
    console.log(`\n[local] ${signal}: finishing the batches in hand (again to stop at once)...`);
    stack.stop().then(
      () => {
        console.log('[local] stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`[local] stop failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
};

main().catch((error: unknown) => {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === 'EADDRINUSE') {
    console.error(
      `A port is taken (${describeError(error)}). Stop whatever holds it, or set PORT, DYNAMODB_PORT, SQS_PORT or SIMULATOR_PORT.`,
    );
  } else {
    console.error(`The local stack could not start: ${describeError(error)}`);
  }
  process.exit(1);
});
