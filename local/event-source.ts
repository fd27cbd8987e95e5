// Feeds a queue to a handler the way Lambda's SQS event source mapping does: batches, a batching window,
// bounded concurrency, and partial batch responses. Failed records are left for redelivery after the
// visibility timeout, and the queue's redrive policy moves them to the dead-letter queue.
//
// A batch in hand is never redelivered while its handler runs: on AWS the function's timeout, six times shorter than
// the visibility timeout, sees to that; here, with no timeout to kill a slow handler and the short visibility
// timeouts tests choose, the batch's messages are kept invisible until the handler returns.

import {
  ChangeMessageVisibilityBatchCommand,
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
  /** The queue's visibility timeout: a batch in hand is kept invisible for this long again every half of it. */
  readonly visibilityTimeoutSeconds: number;
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

  /** Makes the messages invisible for a whole visibility timeout again, ten to a request. */
  const extend = async (messages: readonly Message[]): Promise<void> => {
    for (let i = 0; i < messages.length; i += RECEIVE_MAX) {
      const entries = messages.slice(i, i + RECEIVE_MAX).map((m, j) => ({
        Id: String(j),
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: options.visibilityTimeoutSeconds,
      }));
      await options.client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: options.queueUrl, Entries: entries }),
      );
    }
  };

  /** Keeps the batch (as it grows) invisible until the returned function is called. */
  const holdInvisible = (batch: readonly Message[]): (() => void) => {
    const timer = setInterval(
      () => {
        extend(batch).catch((error: unknown) => options.onError?.(error));
      },
      (options.visibilityTimeoutSeconds * 1000) / 2,
    );
    return () => clearInterval(timer);
  };

  /** Long-polls for a first message, then fills the batch until it is full or the window closes. */
  const collectBatch = async (): Promise<{ batch: Message[]; release: () => void }> => {
    const batch = await receive(options.batchSize, 1);
    if (batch.length === 0) return { batch, release: () => undefined };
    const release = holdInvisible(batch);
    const deadline = Date.now() + options.maxBatchingWindowMs;
    try {
      while (batch.length < options.batchSize && Date.now() < deadline && !abort.signal.aborted) {
        const more = await receive(options.batchSize - batch.length, 0).catch((error: unknown) => {
          if (isAbort(error)) return [];
          throw error;
        });
        if (more.length === 0) await sleep(EMPTY_POLL_PAUSE_MS);
        batch.push(...more);
      }
    } catch (error) {
      release();
      throw error;
    }
    return { batch, release };
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

  const invoke = async (messages: readonly Message[], release: () => void): Promise<void> => {
    const records = messages.map((message) => toSqsRecord(message, options.queueArn));
    let failed: Set<string>;
    try {
      const response = await options.handler({ Records: records }, lambdaContext(options.functionName));
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A function error fails the whole batch: every record comes back after the visibility timeout.
      options.onError?.(error);
      failed = new Set(records.map((record) => record.messageId));
    } finally {
      release();
    }
    await acknowledge(messages.filter((message) => !failed.has(message.MessageId ?? '')));
    options.onBatch?.(records.length, failed.size);
  };

  const worker = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const { batch, release } = await collectBatch();
        try {
          if (batch.length > 0) await invoke(batch, release);
        } finally {
          release();
        }
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
