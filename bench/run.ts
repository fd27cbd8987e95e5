// `npm run bench`: ingest's own overhead, bundle sizes, the local pipeline against the emulators alone, and the
// AWS cost per million events from the write units the stored items take. Numbers, not assertions.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import { ingest } from '../lambdas/ingest/ingest.js';
import { CachedTokenRegistry } from '../lambdas/ingest/token-cache.js';
import { hashToken } from '../lambdas/shared/token.js';
import { EVENTS_QUEUE, PAYLOAD_CAP, PERSIST } from '../lib/definitions/pipeline.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClientConfig } from '../local/clients.js';
import { freePort } from '../local/free-port.js';
import { readLocalSettings } from '../local/settings.js';
import { startLocalStack } from '../local/stack.js';
import { deliveryBody } from '../simulator/envelope.js';
import { createTrafficGenerator } from '../simulator/traffic.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TOKEN = 'bench-token';

const line = (label: string, value: string) => console.log(`  ${label.padEnd(52)}${value}`);
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.floor((sorted.length - 1) * p)] ?? 0;

/** Aircall-like traffic: generated call lifecycles and agent events, every body distinct. */
const traffic = (count: number): string[] => {
  const generator = createTrafficGenerator({
    account: 'bench',
    seed: 42,
    startTime: 1_760_000_000,
    agents: 8,
  });
  const bodies: string[] = [];
  while (bodies.length < count)
    bodies.push(...generator.generate(10).map((event) => deliveryBody(event, TOKEN)));
  return bodies.slice(0, count);
};

const ingestOverhead = async (bodies: readonly string[]) => {
  const tokenHash = hashToken(TOKEN);
  const deps = {
    registry: new CachedTokenRegistry(
      { find: async () => ({ account: 'bench', tokenHash }) },
      { positiveTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10_000, now: Date.now },
    ),
    queue: { send: async () => undefined },
    clock: { now: Date.now },
    maxBodyBytes: EVENTS_QUEUE.maxMessageSizeBytes - 1024,
    maxPayloadBytes: PAYLOAD_CAP.defaultBytes,
  };
  const run = (body: string) =>
    ingest({ body, isBase64Encoded: false, contentType: 'application/json' }, deps);
  for (const body of bodies.slice(0, 2000)) await run(body);
  const times: number[] = [];
  for (let round = 0; round < 5; round += 1) {
    for (const body of bodies) {
      const started = performance.now();
      await run(body);
      times.push((performance.now() - started) * 1000);
    }
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), samples: times.length };
};

const bundleSize = async (name: string): Promise<number> => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../lambdas/${name}/handler.ts`, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((sum, file) => sum + file.contents.length, 0);
};

const pool = async <T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
};

const scanAll = async (documents: DynamoDBDocumentClient, table: string) => {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: documents }, { TableName: table }))
    items.push(...(page.Items ?? []));
  return items;
};

/** DynamoDB's item size: attribute names plus values, as its capacity units count them. */
const sizeOf = (value: unknown): number => {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number')
    return Math.ceil(String(Math.abs(value)).replace(/^0+|\./g, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, item) => sum + 1 + sizeOf(item), 0);
  return (
    3 +
    Object.entries(value as Record<string, unknown>).reduce(
      (sum, [key, item]) => sum + 1 + Buffer.byteLength(key, 'utf8') + sizeOf(item),
      0,
    )
  );
};
const writeUnits = (item: Record<string, unknown>): number => Math.max(1, Math.ceil(sizeOf(item) / 1024));

const main = async () => {
  const bodies = traffic(EVENTS);
  console.log(`aircall-webhook-stack bench: ${EVENTS} generated events, ${CONCURRENCY} concurrent senders\n`);

  console.log('ingest (use case with a warm token cache, queue faked: everything but the SQS call)');
  const overhead = await ingestOverhead(bodies);
  line('overhead per request, p50 / p99', `${overhead.p50.toFixed(1)} µs / ${overhead.p99.toFixed(1)} µs`);
  for (const name of ['ingest', 'persist', 'guardian']) {
    line(`${name} bundle (minified ESM, SDK inside)`, `${((await bundleSize(name)) / 1024).toFixed(0)} KiB`);
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'aircall-bench-'));
  const settings = readLocalSettings({
    PORT: String(await freePort()),
    DYNAMODB_PORT: String(await freePort()),
    SQS_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    LOCAL_WEBHOOK_TOKEN: TOKEN,
    LOCAL_ACCOUNT: 'bench',
  });
  const stack = await startLocalStack({ settings, logLevel: 'ERROR' });
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.endpoints.dynamodb,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  try {
    console.log('\nlocal pipeline (npm start: HTTP -> ingest -> SQS -> persist -> DynamoDB, one process)');
    const started = performance.now();
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    await pool(bodies, CONCURRENCY, async (body) => {
      const t = performance.now();
      const response = await fetch(stack.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    });
    const accepted = performance.now() - started;
    while (stack.depth().queue > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const stored = performance.now() - started;
    latencies.sort((a, b) => a - b);
    const events = await scanAll(documents, settings.tables.events);
    const pipelineRate = (EVENTS / stored) * 1000;
    line('answers', [...statuses].map(([status, n]) => `${status}: ${n}`).join(', '));
    line(
      'answer latency p50 / p99',
      `${percentile(latencies, 0.5).toFixed(1)} ms / ${percentile(latencies, 0.99).toFixed(1)} ms`,
    );
    line('all answered in', `${(accepted / 1000).toFixed(1)} s`);
    line(
      'all stored in',
      `${(stored / 1000).toFixed(1)} s (${Math.round(pipelineRate * 60)} events a minute)`,
    );
    line(
      'events stored / lost / dead letters',
      `${events.length} / ${EVENTS - events.length} / ${stack.depth().deadLetterQueue}`,
    );

    console.log('\nthe emulators alone (the same enqueue and writes, no pipeline code)');
    const sqs = new SQSClient(localSqsClientConfig(stack.endpoints.sqs));
    const baseStarted = performance.now();
    let i = 0;
    await pool(bodies, CONCURRENCY, async (body) => {
      const id = i++;
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queues.deadLetterQueueUrl, MessageBody: body }),
      );
      await documents.send(
        new PutCommand({ TableName: settings.tables.events, Item: { pk: `baseline#${id}`, sk: '0', body } }),
      );
      await documents.send(
        new UpdateCommand({
          TableName: settings.tables.users,
          Key: { id: 9_000_000 + id },
          UpdateExpression: 'SET body = :b',
          ExpressionAttributeValues: { ':b': body },
        }),
      );
    });
    const baselineRate = (EVENTS / (performance.now() - baseStarted)) * 1000;
    sqs.destroy();
    line('SendMessage + PutItem + UpdateItem per event', `${Math.round(baselineRate * 60)} events a minute`);
    line('pipeline / emulators alone', `${((pipelineRate / baselineRate) * 100).toFixed(0)} %`);

    console.log('\ncost per million Aircall events (AWS list prices, us-east-1, on demand)');
    const calls = await scanAll(documents, settings.tables.calls);
    const states = [
      ...calls,
      ...(await scanAll(documents, settings.tables.users)).filter((u) => Number(u.id) < 9_000_000),
    ];
    const logWrites = events.reduce((sum, item) => sum + writeUnits(item) + 1, 0); // + the by_received_day index
    const callEvents = events.filter((e) => String(e.pk).startsWith('call#')).length;
    // Every state write rewrites the item; a call item's four index entries change with its summary.
    const averageState = states.reduce((sum, item) => sum + writeUnits(item), 0) / Math.max(1, states.length);
    const stateWrites = events.length * averageState + callEvents * 4;
    const wruPerEvent = (logWrites + stateWrites) / events.length;
    const dynamo = wruPerEvent * 0.625;
    const apiGateway = 1.0;
    const sqsRequests = (1 + 2 / PERSIST.batchSize) * 0.4; // send, then receive and delete per batch
    const gbSecond = 0.0000133334 * 1e6;
    const ingestMs = 10; // assumed: a warm answer is dominated by the SQS call, measured above without it
    // Per batch, from the local run: the stored time spread over the batches the concurrent consumers handled.
    const persistMs = (stored * PERSIST.maxConcurrency) / (EVENTS / PERSIST.batchSize);
    const lambda =
      (ingestMs / 1000) * 0.5 * gbSecond +
      0.2 +
      ((persistMs / 1000) * (PERSIST.memorySize / 1024) * gbSecond + 0.2) / PERSIST.batchSize;
    line(
      'DynamoDB write units per event (measured)',
      `${wruPerEvent.toFixed(2)} WRU -> $${dynamo.toFixed(2)}`,
    );
    line('API Gateway HTTP API', `$${apiGateway.toFixed(2)}`);
    line('SQS (send, receive and delete in batches)', `$${sqsRequests.toFixed(2)}`);
    line(
      `Lambda arm64 (ingest ${ingestMs} ms, persist ${persistMs.toFixed(0)} ms a batch)`,
      `$${lambda.toFixed(2)}`,
    );
    line('total, before logs and storage', `$${(dynamo + apiGateway + sqsRequests + lambda).toFixed(2)}`);
  } finally {
    await stack.stop();
    documents.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
