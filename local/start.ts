// `npm start`: runs the local stack until Ctrl-C, printing where everything is and what it is doing.

import { relative } from 'node:path';
import { TABLE_NAMES } from '../lib/definitions/tables.js';
import { readLocalSettings } from './settings.js';
import { type Activity, type LocalStack, startLocalStack } from './stack.js';

const ACTIVITY_INTERVAL_MS = 5000;

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const banner = (
  stack: LocalStack,
  token: string,
  account: string,
  dataDir: string,
  seconds: number,
): string => {
  const example = 'examples/call.ended.json';
  return [
    '',
    `aircall-webhook-stack is running locally (ready in ${seconds.toFixed(1)} s)`,
    '',
    `  Webhook URL  ${stack.webhookUrl}`,
    `  Dev token    ${token}  (account "${account}")`,
    `  DynamoDB     ${stack.endpoints.dynamodb}  tables: ${TABLE_NAMES.join(', ')}`,
    `  SQS          ${stack.endpoints.sqs}  queues: events, events-dlq`,
    `  Data         ${relative(process.cwd(), dataDir) || '.'}${stack.restored > 0 ? `  (${stack.restored} queued messages restored)` : ''}`,
    '',
    '  Try it:',
    `    curl -X POST ${stack.webhookUrl} -H 'content-type: application/json' --data @${example}`,
    '    npm run cli -- calls 780836699',
    '',
    '  Ctrl-C stops it; queued events and stored data are kept for the next start.',
    '',
  ].join('\n');
};

const summary = (activity: Activity, depth: { queue: number; deadLetterQueue: number }): string => {
  const answers = Object.entries(activity.answers)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  return `webhooks answered {${answers}} · persisted ${activity.persisted} · failed ${activity.failed} · queued ${depth.queue} · dead letters ${depth.deadLetterQueue}`;
};

const main = async (): Promise<void> => {
  const started = Date.now();
  const settings = readLocalSettings();
  const stack = await startLocalStack({
    settings,
    onError: (error) => console.error(`[local] recovered from: ${describeError(error)}`),
  });
  console.log(
    banner(stack, settings.token, settings.account, settings.dataDir, (Date.now() - started) / 1000),
  );

  let last = '';
  const ticker = setInterval(() => {
    const line = summary(stack.activity, stack.depth());
    if (line !== last) console.log(`[local] ${line}`);
    last = line;
  }, ACTIVITY_INTERVAL_MS);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    console.log(`\n[local] ${signal}: finishing the batches in hand and saving the queues...`);
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
      `A port is taken (${describeError(error)}). Stop whatever holds it, or set PORT, DYNAMODB_PORT or SQS_PORT.`,
    );
  } else {
    console.error(`The local stack could not start: ${describeError(error)}`);
  }
  process.exit(1);
});
