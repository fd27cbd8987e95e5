// Child process that puts the load on the local stack, so that the sender does not share the stack's event loop:
// webhook POSTs, raw SendMessage or raw PutItem at a fixed concurrency. Prints its timings as one JSON line.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../lib/definitions/pipeline.js';
import { localClientTarget, localSqsClientConfig } from '../local/clients.js';

export type LoadJob =
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly concurrency: number;
      readonly bodies: readonly string[];
    }
  | {
      readonly kind: 'sqs';
      readonly endpoint: string;
      readonly queueUrl: string;
      readonly concurrency: number;
      readonly messages: readonly { readonly body: string; readonly account: string }[];
    }
  | {
      readonly kind: 'dynamodb';
      readonly endpoint: string;
      readonly table: string;
      readonly concurrency: number;
      readonly items: readonly Record<string, AttributeValue>[];
    };

export interface LoadResult {
  readonly durationMs: number;
  readonly latenciesMs: readonly number[];
  /** HTTP statuses, or 200 for an SDK call that succeeded and 500 for one that threw. */
  readonly statuses: Readonly<Record<string, number>>;
}

const pool = async (count: number, size: number, work: (index: number) => Promise<number>) => {
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < count) {
        const index = next++;
        const t = performance.now();
        let status: number;
        try {
          status = await work(index);
        } catch {
          status = 500;
        }
        latenciesMs.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { durationMs: performance.now() - started, latenciesMs, statuses };
};

const run = async (job: LoadJob): Promise<LoadResult> => {
  if (job.kind === 'http') {
    return pool(job.bodies.length, job.concurrency, async (i) => {
      const response = await fetch(job.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: job.bodies[i] ?? '',
      });
      await response.arrayBuffer();
      return response.status;
    });
  }
  if (job.kind === 'sqs') {
    const sqs = new SQSClient(localSqsClientConfig(job.endpoint));
    return pool(job.messages.length, job.concurrency, async (i) => {
      const message = job.messages[i];
      if (message === undefined) throw new Error(`no message ${i}`);
      // The attributes ingest sets, so that persist reads these messages as it reads ingest's.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: job.queueUrl,
          MessageBody: message.body,
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: message.account },
            [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: String(Date.now()) },
          },
        }),
      );
      return 200;
    });
  }
  const dynamo = new DynamoDBClient(localClientTarget(job.endpoint));
  return pool(job.items.length, job.concurrency, async (i) => {
    await dynamo.send(new PutItemCommand({ TableName: job.table, Item: job.items[i] }));
    return 200;
  });
};

const [jobPath] = process.argv.slice(2);
if (jobPath === undefined) throw new Error('usage: load <job.json>');
const result = await run(JSON.parse(readFileSync(jobPath, 'utf8')) as LoadJob);
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
