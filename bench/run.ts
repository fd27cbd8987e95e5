// `npm run bench [-- --quick] [-- --json <file>]`: each figure of ingest, the local pipeline and persist beside a
// floor measured in the same run (the least code or the bare emulator doing the same work), and the AWS cost.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type AttributeValue, DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createIngestHandler } from '../lambdas/ingest/handler.js';
import type { EventQueue } from '../lambdas/ingest/ports.js';
import { CachedTokenRegistry } from '../lambdas/ingest/token-cache.js';
import { createLogger } from '../lambdas/shared/logger.js';
import { hashToken } from '../lambdas/shared/token.js';
import { handlerEntry } from '../lib/constructs/function-defaults.js';
import { ENV, EVENTS_QUEUE, PAYLOAD_CAP, PERSIST } from '../lib/definitions/pipeline.js';
import { isReceiptKey } from '../lib/definitions/receipts.js';
import { TABLES, tableEnvName } from '../lib/definitions/tables.js';
import { LOCAL_REGION, localClientTarget } from '../local/clients.js';
import { readLocalSettings } from '../local/settings.js';
import { startLocalStack } from '../local/stack.js';
import { benchSizes, parseBenchArgs } from './args.js';
import { bundleHandler, bundleScript } from './bundle.js';
import { type CapacityMeter, type MeterTotals, startCapacityMeter, totalUnits } from './capacity-meter.js';
import { costPerMillionEvents } from './cost.js';
import { createFloorHandler } from './floors/warm-floor.js';
import type { LoadJob, LoadResult } from './load.js';
import { type Figures, renderTable, rows } from './report.js';
import { median, percentile } from './stats.js';
import { startStubAws } from './stub-aws.js';
import { BENCH_ACCOUNT, deliveries, generatedEvents, httpApiEvent, queuedBody } from './traffic.js';
import type { StoredItem } from './wru.js';

const TOKEN = 'bench-token';
/** Ingest's memory, as lib/constructs/ingress.ts configures the function (persist's is in lib/definitions). */
const INGEST_MEMORY_MB = 512;
/** Warm invocations each cold-start child handles after its first, for ingest's billed duration. */
const WARM_AFTER_COLD = 50;

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

// ---- child processes -------------------------------------------------------------------------------------------

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isNumbers = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((n) => typeof n === 'number');

/** Runs a bundled script with this Node.js and resolves with the JSON of its last line of output. */
const runChild = (script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || last === '') reject(new Error(`${script} exited ${code}: ${err.trim()}`));
      else resolve(JSON.parse(last) as unknown);
    });
  });

interface ColdResult {
  readonly coldMs: number;
  readonly processMs: number;
  readonly warmMs: number[];
  readonly statuses: number[];
}

const toColdResult = (value: unknown): ColdResult => {
  if (
    !isRecord(value) ||
    typeof value.coldMs !== 'number' ||
    typeof value.processMs !== 'number' ||
    !isNumbers(value.warmMs) ||
    !isNumbers(value.statuses)
  )
    throw new Error(`unexpected cold-start output: ${JSON.stringify(value)}`);
  if (value.statuses.some((status) => status !== 200))
    throw new Error(`a cold-start child was answered ${value.statuses.join(', ')}`);
  return { coldMs: value.coldMs, processMs: value.processMs, warmMs: value.warmMs, statuses: value.statuses };
};

const toLoadResult = (value: unknown): LoadResult => {
  if (
    !isRecord(value) ||
    typeof value.durationMs !== 'number' ||
    !isNumbers(value.latenciesMs) ||
    !isRecord(value.statuses)
  )
    throw new Error(`unexpected load output: ${JSON.stringify(value)}`);
  const statuses: Record<string, number> = {};
  for (const [status, count] of Object.entries(value.statuses)) statuses[status] = Number(count);
  return { durationMs: value.durationMs, latenciesMs: value.latenciesMs, statuses };
};

// ---- ingest ----------------------------------------------------------------------------------------------------

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Per-event microseconds of a handler over the events, after one pass over them to warm it. */
const warmTimes = async (handler: Handler, events: readonly APIGatewayProxyEventV2[]): Promise<number[]> => {
  for (const event of events) await handler(event);
  const times: number[] = [];
  for (const event of events) {
    const started = performance.now();
    const result = await handler(event);
    times.push((performance.now() - started) * 1000);
    if (result.statusCode !== 200) throw new Error(`a warm handler answered ${result.statusCode}`);
  }
  return times;
};

const warmHandlers = async (bodies: readonly string[]) => {
  const queue: EventQueue = { send: async () => undefined };
  const tokenHash = hashToken(TOKEN);
  // As deployed: the cached registry over the table, here over a fake that finds the token.
  const real = createIngestHandler({
    registry: new CachedTokenRegistry(
      { find: async () => ({ account: BENCH_ACCOUNT, tokenHash }) },
      { positiveTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10_000, now: Date.now },
    ),
    queue,
    clock: { now: Date.now },
    maxBodyBytes: EVENTS_QUEUE.maxMessageSizeBytes - 1024,
    maxPayloadBytes: PAYLOAD_CAP.defaultBytes,
    logger: createLogger('ingest'),
  });
  const floor = createFloorHandler(queue, Date.now);
  const events = bodies.map((body, i) => httpApiEvent(body, `warm-${i}`));
  // Alternated halves, so that neither handler alone gets the warmer JIT or the quieter machine.
  const realTimes: number[] = [];
  const floorTimes: number[] = [];
  const half = Math.ceil(events.length / 2);
  for (const part of [events.slice(0, half), events.slice(half)]) {
    realTimes.push(...(await warmTimes(real, part)));
    floorTimes.push(...(await warmTimes(floor, part)));
  }
  return { realTimes, floorTimes };
};

/** Cold starts of the two bundles, alternated, each in a fresh Node.js against a stub answering at once. */
const coldStarts = async (
  workDir: string,
  bundles: { readonly real: string; readonly floor: string },
  runs: number,
  bodies: readonly string[],
) => {
  const driver = join(workDir, 'cold-start.mjs');
  await bundleScript(here('./cold-start.ts'), driver);
  const eventsPath = join(workDir, 'cold-events.json');
  await writeFile(
    eventsPath,
    JSON.stringify(bodies.slice(0, WARM_AFTER_COLD + 1).map((body, i) => httpApiEvent(body, `cold-${i}`))),
  );
  const stub = await startStubAws();
  try {
    // Only what a Lambda environment gives, plus the SDK's endpoint variables: no profile, no shared config file.
    const env: NodeJS.ProcessEnv = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
      AWS_ENDPOINT_URL_SQS: stub.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: stub.endpoint,
      [ENV.eventsQueueUrl]: `${stub.endpoint}/123456789012/events`,
      [tableEnvName('webhooks')]: 'webhooks',
    };
    const real: ColdResult[] = [];
    const floor: ColdResult[] = [];
    for (let i = 0; i < runs; i += 1) {
      real.push(toColdResult(await runChild(driver, [bundles.real, eventsPath], env)));
      floor.push(toColdResult(await runChild(driver, [bundles.floor, eventsPath], env)));
    }
    const sends = stub.answered.get('AmazonSQS.SendMessage') ?? 0;
    if (sends !== 2 * runs * (WARM_AFTER_COLD + 1))
      throw new Error(`the stub answered ${sends} SendMessage, expected ${2 * runs * (WARM_AFTER_COLD + 1)}`);
    return { real, floor, getItems: stub.answered.get('DynamoDB_20120810.GetItem') ?? 0 };
  } finally {
    await stub.stop();
  }
};

// ---- the local stack -------------------------------------------------------------------------------------------

const scanTable = async (dynamo: DynamoDBClient, table: string): Promise<StoredItem[]> => {
  const items: StoredItem[] = [];
  for await (const page of paginateScan({ client: dynamo }, { TableName: table, ConsistentRead: true }))
    items.push(...(page.Items ?? []));
  return items;
};

/** Event-log rows: the events table also holds receipts, which list events and are none themselves. */
const isEventRow = (item: StoredItem): boolean => !isReceiptKey(item.pk?.S ?? '');

/** Write units per event by table, each table's indexes in brackets: `calls 1.02 (+by_user 0.10, ...), ...`. */
const perEventBreakdown = (totals: MeterTotals, events: number): string =>
  Object.entries(totals.tables)
    .filter(([, units]) => units.base > 0)
    .map(([table, units]) => {
      const indexes = Object.entries(units.indexes).map(([name, n]) => `+${name} ${(n / events).toFixed(2)}`);
      return `${table} ${(units.base / events).toFixed(2)}${indexes.length > 0 ? ` (${indexes.join(', ')})` : ''}`;
    })
    .join(', ');

const until = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const runLoad = async (workDir: string, script: string, job: LoadJob): Promise<LoadResult> => {
  const jobPath = join(workDir, `${job.kind}-job.json`);
  await writeFile(jobPath, JSON.stringify(job));
  return toLoadResult(await runChild(script, [jobPath], process.env));
};

const pipelineAndPersist = async (workDir: string, events: number, concurrency: number) => {
  const loadScript = join(workDir, 'load.mjs');
  await bundleScript(here('./load.ts'), loadScript);
  const dataDir = join(workDir, 'data');
  const settings = readLocalSettings({
    PORT: '0',
    DYNAMODB_PORT: '0',
    SQS_PORT: '0',
    DATA_DIR: dataDir,
    LOCAL_WEBHOOK_TOKEN: TOKEN,
    LOCAL_ACCOUNT: BENCH_ACCOUNT,
  });
  // The handlers' DynamoDB clients go through the meter; the bench's own, and the floors, straight to the emulator.
  const meters: CapacityMeter[] = [];
  const stack = await startLocalStack({
    settings,
    logLevel: 'ERROR',
    archiveMedia: false,
    handlerEndpoints: async ({ dynamodb }) => {
      const meter = await startCapacityMeter({
        upstream: dynamodb,
        tables: Object.fromEntries(
          Object.entries(settings.tables).map(([logical, physical]) => [physical, logical]),
        ),
        definitions: TABLES,
      });
      meters.push(meter);
      return { dynamodb: meter.endpoint };
    },
  }).catch(async (error: unknown) => {
    await Promise.all(meters.map((meter) => meter.stop()));
    throw error;
  });
  const [meter] = meters;
  const dynamo = new DynamoDBClient(localClientTarget(stack.endpoints.dynamodb));
  try {
    if (meter === undefined) throw new Error('the local stack started without the capacity meter');
    /** One company's events, queued raw as ingest queues them, from another process at the concurrency. */
    const sendRaw = (company: number) =>
      runLoad(workDir, loadScript, {
        kind: 'sqs',
        endpoint: stack.endpoints.sqs,
        queueUrl: stack.queues.queueUrl,
        concurrency,
        messages: generatedEvents(events, company).map((event) => ({
          body: queuedBody(event),
          account: BENCH_ACCOUNT,
        })),
      });
    // The timed phases run unmetered: persist's writes cost the emulator's round trip and no more. The write units
    // are metered in a phase of their own, last.
    meter.pause();
    // The pipeline: webhooks from another process, through the gateway, ingest, SQS, persist, DynamoDB.
    log(`pipeline: ${events} webhooks at concurrency ${concurrency}`);
    const pipelineStarted = performance.now();
    const http = await runLoad(workDir, loadScript, {
      kind: 'http',
      url: stack.webhookUrl,
      concurrency,
      bodies: deliveries(generatedEvents(events, 0), TOKEN),
    });
    const accepted = http.statuses['200'] ?? 0;
    await until(
      () => stack.activity.persisted >= accepted && stack.depth().queue === 0,
      120_000,
      'the pipeline to store what it accepted',
    );
    const pipelineStoredMs = performance.now() - pipelineStarted;
    const rows = (await scanTable(dynamo, settings.tables.events)).filter(isEventRow);
    const persisted = rows.length;

    // The queue floor: raw SendMessage of the same messages (another company's events) to the same queue; persist
    // drains them, and its rate is taken from the backlog left when the sends end.
    log(`queue floor: ${events} raw SendMessage at concurrency ${concurrency}, then persist drains them`);
    const before = stack.activity.persisted;
    const floorStarted = performance.now();
    const sqs = await sendRaw(1);
    const sendsEnded = performance.now();
    const backlog = events - (stack.activity.persisted - before);
    await until(
      () => stack.activity.persisted - before >= events && stack.depth().queue === 0,
      180_000,
      'persist to drain the queue floor',
    );
    const drained = performance.now();
    // A backlog too small to time says persist kept up with the sends: then the whole phase is the measure.
    const [drainCount, drainMs] =
      backlog >= events / 10 ? [backlog, drained - sendsEnded] : [events, drained - floorStarted];

    // The DynamoDB floor: the event-log rows the pipeline stored (receipts left out), under new keys, PutItem'd raw
    // at once.
    log(`DynamoDB floor: ${persisted} raw PutItem at concurrency ${concurrency}`);
    const items = rows.map(
      (item, i): Record<string, AttributeValue> => ({ ...item, pk: { S: `bench-floor#${i}` } }),
    );
    const db = await runLoad(workDir, loadScript, {
      kind: 'dynamodb',
      endpoint: stack.endpoints.dynamodb,
      table: settings.tables.events,
      concurrency,
      items,
    });
    if ((db.statuses['200'] ?? 0) !== items.length)
      throw new Error(`raw PutItem failed: ${JSON.stringify(db.statuses)}`);
    if ((sqs.statuses['200'] ?? 0) !== events)
      throw new Error(`raw SendMessage failed: ${JSON.stringify(sqs.statuses)}`);

    // The write units: a third company's events, queued as ingest queues them and stored by persist through the
    // meter, untimed. Everything persist writes for them is counted, the accounts' marks included, as billed.
    log(`write units: ${events} events through persist and the capacity meter`);
    const beforeMetered = stack.activity.persisted;
    meter.reset();
    meter.resume();
    const metering = await sendRaw(2);
    if ((metering.statuses['200'] ?? 0) !== events)
      throw new Error(`raw SendMessage failed: ${JSON.stringify(metering.statuses)}`);
    await until(
      () => stack.activity.persisted - beforeMetered >= events && stack.depth().queue === 0,
      180_000,
      'persist to store the metered events',
    );
    const metered = meter.totals();
    meter.pause();
    if (metered.unmetered > 0) throw new Error(`the meter could not size ${metered.unmetered} writes`);
    const meteredEvents = stack.activity.persisted - beforeMetered;

    return {
      http,
      accepted,
      persisted,
      pipelineStoredMs,
      deadLetters: stack.depth().deadLetterQueue,
      wruPerEvent: meteredEvents === 0 ? Number.NaN : totalUnits(metered) / meteredEvents,
      metered,
      meteredEvents,
      queueFloorPerS: (events / sqs.durationMs) * 1000,
      persistPerS: (drainCount / drainMs) * 1000,
      // Each of persist's concurrent consumers busy throughout: the drain's time spread over its batches.
      persistBatchMs: (drainMs * PERSIST.maxConcurrency) / (drainCount / PERSIST.batchSize),
      dbFloorPerS: (items.length / db.durationMs) * 1000,
      backlog,
    };
  } finally {
    dynamo.destroy();
    await stack.stop();
    await meter?.stop();
  }
};

// ---- the run ---------------------------------------------------------------------------------------------------

const main = async () => {
  const args = parseBenchArgs(process.argv.slice(2));
  const sizes = benchSizes(args.quick);
  const startedAt = performance.now();
  console.log(
    `aircall-webhook-stack bench${args.quick ? ' --quick' : ''}: Node.js ${process.version}, ${cpus().length} cores, ` +
      `${sizes.pipelineEvents} pipeline events at concurrency ${sizes.concurrency}\n`,
  );
  const workDir = await mkdtemp(join(tmpdir(), 'aircall-bench-'));
  try {
    log('bundling ingest and its floor as cdk synth does');
    const bundles = { real: join(workDir, 'ingest.mjs'), floor: join(workDir, 'ingest-floor.mjs') };
    const bundleBytes = await bundleHandler(handlerEntry('ingest'), bundles.real);
    const floorBundleBytes = await bundleHandler(here('./floors/ingest-floor.ts'), bundles.floor);

    const bodies = deliveries(generatedEvents(sizes.warmEvents, 0), TOKEN);
    log(`warm handlers: ${bodies.length} events each`);
    const warm = await warmHandlers(bodies);

    log(`cold starts: ${sizes.coldRuns} of each bundle`);
    const cold = await coldStarts(workDir, bundles, sizes.coldRuns, bodies);
    const ingestWarmMs = median(cold.real.flatMap((run) => run.warmMs));

    const local = await pipelineAndPersist(workDir, sizes.pipelineEvents, sizes.concurrency);
    const messageBytes =
      bodies.reduce((sum, body) => sum + Buffer.byteLength(body, 'utf8'), 0) / Math.max(1, bodies.length);
    const cost = costPerMillionEvents({
      writeUnitsPerEvent: local.wruPerEvent,
      messageBytes,
      ingestMemoryMb: INGEST_MEMORY_MB,
      ingestMs: ingestWarmMs,
      persistMemoryMb: PERSIST.memorySize,
      persistBatchSize: PERSIST.batchSize,
      persistBatchMs: local.persistBatchMs,
    });

    const figures: Figures = {
      ingest: {
        bundle_bytes: bundleBytes,
        floor_bundle_bytes: floorBundleBytes,
        cold_ms: median(cold.real.map((run) => run.coldMs)),
        floor_cold_ms: median(cold.floor.map((run) => run.coldMs)),
        handler_us_p50: percentile(warm.realTimes, 0.5),
        handler_us_p99: percentile(warm.realTimes, 0.99),
        floor_handler_us_p50: percentile(warm.floorTimes, 0.5),
      },
      pipeline: {
        sent: sizes.pipelineEvents,
        accepted_per_s: (local.accepted / local.http.durationMs) * 1000,
        p50_ms: percentile(local.http.latenciesMs, 0.5),
        p99_ms: percentile(local.http.latenciesMs, 0.99),
        persisted: local.persisted,
        lost: Math.max(0, local.accepted - local.persisted),
        queue_floor_per_s: local.queueFloorPerS,
      },
      persist: {
        events_per_s: local.persistPerS,
        db_floor_per_s: local.dbFloorPerS,
        wru_per_event: local.wruPerEvent,
      },
      cost: {
        usd_per_million_events: cost.total,
        usd_per_million_events_function_url: cost.totalFunctionUrl,
      },
    };

    console.log(renderTable(rows(figures)));
    const answers = Object.entries(local.http.statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    console.log(
      `
floors, each measured in this run:
  bundle      bench/floors/ingest-floor.ts (one SQSClient SendMessage), bundled with ingest's options
  cold        the same two bundles, each in a fresh Node.js (${process.execPath}): import + first event, median of
              ${sizes.coldRuns}; SQS (and ingest's GetItem, ${cold.getItems} answered) served at once by a local stub
              through AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_DYNAMODB; the process's own start adds
              ${median(cold.real.map((r) => r.processMs - r.coldMs)).toFixed(1)} ms to each
  handler     bench/floors/warm-floor.ts (parse the body, send it) with the same fake queue, ${warm.floorTimes.length} events
  pipeline    raw SendMessage of the same messages to the same embedded SQS, from another process, concurrency ${sizes.concurrency}
  persist     raw PutItem of the stored event-log rows to the same embedded DynamoDB, concurrency ${sizes.concurrency};
              persist's rate is the queue-floor backlog (${local.backlog} messages) over the time it took to drain
pipeline: answers ${answers}; all stored ${(local.pipelineStoredMs / 1000).toFixed(1)} s after the first send; ${local.deadLetters} dead letters
WRU are computed by DynamoDB's sizing rules from the before and after image of every write persist made for
              ${local.meteredEvents} more events of the same mix, queued after the timed phases (${local.metered.writes} writes,
              ${local.metered.failedConditions} refused by their condition), through a metering proxy, because the emulator does not
              report index capacity
WRU per event ${perEventBreakdown(local.metered, local.meteredEvents)}
cost per million events: DynamoDB $${cost.dynamodb.toFixed(2)}, SQS $${cost.sqs.toFixed(2)}, Lambda $${cost.lambda.toFixed(2)} ` +
        `(ingest ${Math.ceil(ingestWarmMs)} ms billed at ${INGEST_MEMORY_MB} MB: the warm bundle's median against the stub, ` +
        `without SQS's own round trip; persist ${local.persistBatchMs.toFixed(0)} ms a batch at ${PERSIST.memorySize} MB), ` +
        `HTTP API $${cost.httpApi.toFixed(2)}; before logs and storage
finished in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`,
    );

    if (args.jsonPath !== undefined) {
      // Three decimals: the timer's noise is far above that.
      const rounded = JSON.stringify(
        figures,
        (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v),
        2,
      );
      await writeFile(args.jsonPath, `${rounded}\n`);
      console.log(`figures written to ${args.jsonPath}`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
