// The stack's events queue as the CLI writes to it: an SQS client made on first use, and the queue's URL, looked up
// by name where the target knows only the name, so that commands which never queue anything open no connection.

import { GetQueueUrlCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { TargetError } from './errors.js';

export interface EventsQueue {
  /** The queue's URL; resolved by GetQueueUrl on first use when only its name is known. */
  url(): Promise<string>;
  client(): SQSClient;
  /** Releases the client's sockets, if one was made. */
  close(): void;
}

export interface SqsEventsQueueOptions {
  /** Its URL, or its name to look the URL up by. */
  readonly queue: { readonly url: string } | { readonly name: string };
  /** The client's configuration: the region and, locally, the emulator's endpoint and credentials. */
  readonly client: SQSClientConfig;
  /** Where the queue lives, for the message when no queue has that name. */
  readonly where: string;
}

export const sqsEventsQueue = (options: SqsEventsQueueOptions): EventsQueue => {
  let client: SQSClient | undefined;
  let url: Promise<string> | undefined;
  const sqs = (): SQSClient => {
    client ??= new SQSClient(options.client);
    return client;
  };
  const lookUp = async (name: string): Promise<string> => {
    try {
      const { QueueUrl } = await sqs().send(new GetQueueUrlCommand({ QueueName: name }));
      if (QueueUrl === undefined) throw new TargetError(`No URL came back for the events queue ${name}`);
      return QueueUrl;
    } catch (error) {
      if (error instanceof Error && /QueueDoesNotExist|NonExistentQueue/.test(error.name)) {
        throw new TargetError(`No events queue named ${name} at ${options.where}`, { cause: error });
      }
      throw error;
    }
  };
  return {
    url: () => {
      const { queue } = options;
      url ??= 'url' in queue ? Promise.resolve(queue.url) : lookUp(queue.name);
      return url;
    },
    client: sqs,
    close: () => client?.destroy(),
  };
};
