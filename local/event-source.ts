// Feeds a queue to a handler the way Lambda's SQS event source mapping does: batches, a batching window,
// bounded concurrency, and partial batch responses. Failed records are left for redelivery after the
// visibility timeout, and the queue's redrive policy moves them to the dead-letter queue.

import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext, toSqsRecord } from './lambda-events.js';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface EventSourceOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  readonly functionName: string;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly maxConcurrency: number;
  /** Called after each batch with how many records were handled and how many failed. */
  readonly onBatch?: (handled: number, failed: number) => void;
  /** Called when the handler throws or SQS fails; the records stay in the queue. */
  readonly onError?: (error: unknown) => void;
}

export interface RunningEventSource {
  /** Stops polling and resolves once every batch in hand has been handled and acknowledged. */
  stop(): Promise<void>;
}

const RECEIVE_MAX = 10;
const EMPTY_POLL_PAUSE_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const isAbort = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';

export const startEventSource = (options: EventSourceOptions): RunningEventSource => {
  const abort = new AbortController();

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    const { Messages = [] } = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(max, RECEIVE_MAX),
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    return Messages;
  };

  /** Long-polls for a first message, then fills the batch until it is full or the window closes. */
  const collectBatch = async (): Promise<Message[]> => {
    const batch = await receive(options.batchSize, 1);
    if (batch.length === 0) return batch;
    const deadline = Date.now() + options.maxBatchingWindowMs;
    while (batch.length < options.batchSize && Date.now() < deadline && !abort.signal.aborted) {
      const more = await receive(options.batchSize - batch.length, 0).catch((error: unknown) => {
        if (isAbort(error)) return [];
        throw error;
      });
      if (more.length === 0) await sleep(EMPTY_POLL_PAUSE_MS);
      batch.push(...more);
    }
    return batch;
  };

  const acknowledge = async (messages: readonly Message[]): Promise<void> => {
    for (let i = 0; i < messages.length; i += RECEIVE_MAX) {
      const entries = messages
        .slice(i, i + RECEIVE_MAX)
        .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle }));
      await options.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: entries }),
      );
    }
  };

  const invoke = async (messages: readonly Message[]): Promise<void> => {
    const records = messages.map((message) => toSqsRecord(message, options.queueArn));
    let failed: Set<string>;
    try {
      const response = await options.handler({ Records: records }, lambdaContext(options.functionName));
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A function error fails the whole batch: every record comes back after the visibility timeout.
      options.onError?.(error);
      failed = new Set(records.map((record) => record.messageId));
    }
    await acknowledge(messages.filter((message) => !failed.has(message.MessageId ?? '')));
    options.onBatch?.(records.length, failed.size);
  };

  const worker = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const batch = await collectBatch();
        if (batch.length > 0) await invoke(batch);
      } catch (error) {
        if (isAbort(error) || abort.signal.aborted) return;
        options.onError?.(error);
        await sleep(1000);
      }
    }
  };

  const workers = Array.from({ length: options.maxConcurrency }, () => worker());
  return {
    stop: async () => {
      abort.abort();
      await Promise.all(workers);
    },
  };
};
