// The floor of ingest's bundle and cold start: a handler that only sends the body with the SQS client.

import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const queueUrl = process.env.EVENTS_QUEUE_URL;
if (queueUrl === undefined) throw new Error('EVENTS_QUEUE_URL is not set');
const sqs = new SQSClient({});

export const handler = async (event: {
  readonly body?: string;
}): Promise<{ statusCode: number; body: string }> => {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: event.body ?? '' }));
  return { statusCode: 200, body: '' };
};
