// The stack's queues as the CLI writes to them: SQS clients made on first use, and queue URLs looked up by name
// where the target knows only the name, so that commands which never queue anything open no connection.

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { TargetError } from './errors.js';

/** A queue as a target knows it: by its URL, or by its name to look the URL up by. */
export type QueueRef = { readonly url: string } | { readonly name: string };

export interface EventsQueue {
  /** The queue's URL; resolved by GetQueueUrl on first use when only its name is known. */
  url(): Promise<string>;
  client(): SQSClient;
  /** Releases the client's sockets, if one was made. */
  close(): void;
}

export interface SqsEventsQueueOptions {
  /** Its URL, or its name to look the URL up by. */
  readonly queue: QueueRef;
  /** The client's configuration: the region and, locally, the emulator's endpoint and credentials. */
  readonly client: SQSClientConfig;
  /** Where the queue lives, for the message when no queue has that name. */
  readonly where: string;
}

/** An SQS client made on the first call, and released by `close` only if it was. */
const lazyClient = (config: SQSClientConfig) => {
  let client: SQSClient | undefined;
  return {
    get: (): SQSClient => {
      client ??= new SQSClient(config);
      return client;
    },
    close: (): void => client?.destroy(),
  };
};

/** The queue's URL: the one given, or GetQueueUrl's for its name, with a message naming the queue when none has it. */
const resolveQueueUrl = async (
  client: SQSClient,
  queue: QueueRef,
  what: string,
  where: string,
): Promise<string> => {
  if ('url' in queue) return queue.url;
  try {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queue.name }));
    if (QueueUrl === undefined) throw new TargetError(`No URL came back for the ${what} ${queue.name}`);
    return QueueUrl;
  } catch (error) {
    if (error instanceof Error && /QueueDoesNotExist|NonExistentQueue/.test(error.name)) {
      throw new TargetError(`No ${what} named ${queue.name} at ${where}`, { cause: error });
    }
    throw error;
  }
};

export const sqsEventsQueue = (options: SqsEventsQueueOptions): EventsQueue => {
  const sqs = lazyClient(options.client);
  let url: Promise<string> | undefined;
  return {
    url: () => {
      url ??= resolveQueueUrl(sqs.get(), options.queue, 'events queue', options.where);
      return url;
    },
    client: sqs.get,
    close: sqs.close,
  };
};

/** The two queues whose dead letters `redrive` moves: the events persist reads, the media jobs the archive reads. */
export type RedriveQueue = 'events' | 'media';

/** A queue and the dead-letter queue its failures end up in. */
export interface QueuePair {
  readonly queue: QueueRef;
  readonly deadLetterQueue: QueueRef;
}

/** Both URLs of a pair, resolved. */
export interface QueuePairUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export interface DeadLetterQueues {
  /**
   * Whether the SQS behind them runs message move tasks: AWS does; the embedded one (fauxqs) has none, so there
   * dead letters are moved by hand.
   */
  readonly moveTasks: boolean;
  /** Which pairs the target names. */
  readonly pairs: readonly RedriveQueue[];
  /** A pair's URLs, looked up by name on first use where only names are known; undefined for a pair not named. */
  urls(which: RedriveQueue): Promise<QueuePairUrls> | undefined;
  client(): SQSClient;
  /** Releases the client's sockets, if one was made. */
  close(): void;
}

export interface SqsDeadLetterQueuesOptions {
  readonly pairs: Readonly<Partial<Record<RedriveQueue, QueuePair>>>;
  readonly moveTasks: boolean;
  readonly client: SQSClientConfig;
  readonly where: string;
}

const QUEUE_WORDS: Readonly<Record<RedriveQueue, { queue: string; deadLetterQueue: string }>> = {
  events: { queue: 'events queue', deadLetterQueue: 'dead-letter queue' },
  media: { queue: 'media queue', deadLetterQueue: 'media dead-letter queue' },
};

export const sqsDeadLetterQueues = (options: SqsDeadLetterQueuesOptions): DeadLetterQueues => {
  const sqs = lazyClient(options.client);
  const resolved = new Map<RedriveQueue, Promise<QueuePairUrls>>();
  const resolve = async (which: RedriveQueue, pair: QueuePair): Promise<QueuePairUrls> => {
    const words = QUEUE_WORDS[which];
    const [queueUrl, deadLetterQueueUrl] = await Promise.all([
      resolveQueueUrl(sqs.get(), pair.queue, words.queue, options.where),
      resolveQueueUrl(sqs.get(), pair.deadLetterQueue, words.deadLetterQueue, options.where),
    ]);
    return { queueUrl, deadLetterQueueUrl };
  };
  return {
    moveTasks: options.moveTasks,
    pairs: (['events', 'media'] as const).filter((which) => options.pairs[which] !== undefined),
    urls: (which) => {
      const pair = options.pairs[which];
      if (pair === undefined) return undefined;
      let urls = resolved.get(which);
      if (urls === undefined) {
        urls = resolve(which, pair);
        resolved.set(which, urls);
      }
      return urls;
    },
    client: sqs.get,
    close: sqs.close,
  };
};

/** One message to send: its body and attributes, under an id the caller knows it by. */
export interface OutgoingMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

export interface BatchOutcome {
  /** Ids of the messages SQS took. */
  readonly sent: readonly string[];
  /** Those it refused, with its error code only: an entry's message could quote the body. */
  readonly failed: readonly { readonly id: string; readonly code: string }[];
}

// SendMessageBatch takes ten entries at most, and at most the largest message's size in all; 256 KiB stays under
// it on every queue, and a single larger message goes alone.
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 262_144;

const sizeOf = (message: OutgoingMessage): number =>
  Buffer.byteLength(message.body, 'utf8') +
  Object.entries(message.attributes).reduce(
    (total, [name, value]) =>
      total +
      Buffer.byteLength(name, 'utf8') +
      Buffer.byteLength(value.DataType ?? '', 'utf8') +
      Buffer.byteLength(value.StringValue ?? '', 'utf8') +
      (value.BinaryValue?.byteLength ?? 0),
    0,
  );

/** The messages in the order given, cut into batches SendMessageBatch takes. */
export const batchesOf = (messages: readonly OutgoingMessage[]): OutgoingMessage[][] => {
  const batches: OutgoingMessage[][] = [];
  let batch: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (batch.length > 0 && (batch.length === BATCH_ENTRIES || bytes + size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
};

/** Sends every message, batch after batch, and says which SQS took: a refused entry does not stop the others. */
export const sendMessages = async (
  client: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<BatchOutcome> => {
  const sent: string[] = [];
  const failed: { id: string; code: string }[] = [];
  for (const batch of batchesOf(messages)) {
    // Batch entry ids must be short and unique within the batch; the caller's ids may be neither.
    const { Successful = [], Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          MessageAttributes: { ...message.attributes },
        })),
      }),
    );
    const idOf = (entryId: string | undefined): string | undefined => batch[Number(entryId)]?.id;
    for (const entry of Successful) {
      const id = idOf(entry.Id);
      if (id !== undefined) sent.push(id);
    }
    for (const entry of Failed) {
      const id = idOf(entry.Id);
      if (id !== undefined) failed.push({ id, code: entry.Code ?? 'no code' });
    }
  }
  return { sent, failed };
};

/** A message received from a dead-letter queue, to be sent back and then deleted. */
export interface DeadLetter {
  /** SQS's message id: unique, and how a batch's outcome names it. */
  readonly id: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

/** A dead-letter queue and its source queue, as a move by hand uses them. */
export interface HandMove {
  /** Messages in the dead-letter queue, visible or being received; approximate, as SQS counts them. */
  waiting(): Promise<number>;
  /** Up to `max` (at most ten) messages with all their attributes, hidden from other receivers while moved. */
  receive(max: number): Promise<DeadLetter[]>;
  /** Sends to the source queue. */
  send(messages: readonly OutgoingMessage[]): Promise<BatchOutcome>;
  /** Deletes from the dead-letter queue; resolves to the ids of those it could not delete. */
  delete(letters: readonly DeadLetter[]): Promise<readonly string[]>;
}

/** The state of a message move task, as ListMessageMoveTasks reports it. */
export interface MoveTaskState {
  /** RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED. */
  readonly status: string;
  readonly moved: number;
  /** What the task set out to move; SQS may not know it yet. */
  readonly toMove: number | undefined;
  readonly failureReason: string | undefined;
}

/** SQS's own redrive of one dead-letter queue into its source queue. */
export interface MoveTasks {
  /** Messages in the dead-letter queue, visible or being received; approximate, as SQS counts them. */
  waiting(): Promise<number>;
  start(): Promise<void>;
  /** The newest move task of the dead-letter queue: only one runs at a time per queue, so the one started. */
  latest(): Promise<MoveTaskState | undefined>;
}

// Long enough to send and delete a batch; short enough that a message whose send failed is soon back in view.
const RECEIVE_VISIBILITY_SECONDS = 30;

const messagesIn = async (client: SQSClient, queueUrl: string): Promise<number> => {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
};

const arnOf = async (client: SQSClient, queueUrl: string): Promise<string> => {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (Attributes.QueueArn === undefined) throw new TargetError(`No ARN came back for the queue ${queueUrl}`);
  return Attributes.QueueArn;
};

export const sqsHandMove = (client: SQSClient, urls: QueuePairUrls): HandMove => ({
  waiting: () => messagesIn(client, urls.deadLetterQueueUrl),
  receive: async (max) => {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: urls.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
      }),
    );
    return Messages.flatMap((message) =>
      message.MessageId === undefined || message.ReceiptHandle === undefined || message.Body === undefined
        ? []
        : [
            {
              id: message.MessageId,
              receiptHandle: message.ReceiptHandle,
              body: message.Body,
              attributes: message.MessageAttributes ?? {},
            },
          ],
    );
  },
  send: (messages) => sendMessages(client, urls.queueUrl, messages),
  delete: async (letters) => {
    const failed: string[] = [];
    for (let start = 0; start < letters.length; start += BATCH_ENTRIES) {
      const batch = letters.slice(start, start + BATCH_ENTRIES);
      if (batch.length === 0) continue;
      const { Failed = [] } = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: urls.deadLetterQueueUrl,
          Entries: batch.map((letter, index) => ({ Id: String(index), ReceiptHandle: letter.receiptHandle })),
        }),
      );
      for (const entry of Failed) {
        const letter = batch[Number(entry.Id)];
        if (letter !== undefined) failed.push(letter.id);
      }
    }
    return failed;
  },
});

export const sqsMoveTasks = (client: SQSClient, urls: QueuePairUrls): MoveTasks => {
  let sourceArn: Promise<string> | undefined;
  const deadLetterArn = (): Promise<string> => {
    sourceArn ??= arnOf(client, urls.deadLetterQueueUrl);
    return sourceArn;
  };
  return {
    waiting: () => messagesIn(client, urls.deadLetterQueueUrl),
    start: async () => {
      const [source, destination] = await Promise.all([deadLetterArn(), arnOf(client, urls.queueUrl)]);
      await client.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }));
    },
    latest: async () => {
      const { Results = [] } = await client.send(
        new ListMessageMoveTasksCommand({ SourceArn: await deadLetterArn(), MaxResults: 1 }),
      );
      const [task] = Results;
      if (task === undefined) return undefined;
      return {
        status: task.Status ?? 'UNKNOWN',
        moved: task.ApproximateNumberOfMessagesMoved ?? 0,
        toMove: task.ApproximateNumberOfMessagesToMove,
        failureReason: task.FailureReason,
      };
    },
  };
};
