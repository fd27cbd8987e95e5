// Lambda's event shapes built from what the embedded services hand over: SQS records and an invocation Context.

import { randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { LOCAL_REGION } from './clients.js';

const required = (value: string | undefined, what: string): string => {
  if (value === undefined) throw new Error(`received message has no ${what}`);
  return value;
};

/** Lambda's shape of a message attribute: lower-case keys, binary as base64, the unused list fields empty. */
const toRecordAttribute = (value: MessageAttributeValue): SQSMessageAttribute => ({
  ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
  ...(value.BinaryValue !== undefined
    ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
    : {}),
  stringListValues: value.StringListValues ?? [],
  binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
  dataType: required(value.DataType, 'attribute data type'),
});

/** The record the SQS event source mapping would hand the function for a received message. */
export const toSqsRecord = (message: Message, queueArn: string): SQSRecord => {
  const system = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ...system,
    ApproximateReceiveCount: required(system.ApproximateReceiveCount, 'ApproximateReceiveCount'),
    SentTimestamp: required(system.SentTimestamp, 'SentTimestamp'),
    SenderId: required(system.SenderId, 'SenderId'),
    ApproximateFirstReceiveTimestamp: required(
      system.ApproximateFirstReceiveTimestamp,
      'ApproximateFirstReceiveTimestamp',
    ),
  };
  return {
    messageId: required(message.MessageId, 'MessageId'),
    receiptHandle: required(message.ReceiptHandle, 'ReceiptHandle'),
    body: required(message.Body, 'Body'),
    attributes,
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        toRecordAttribute(value),
      ]),
    ),
    md5OfBody: required(message.MD5OfBody, 'MD5OfBody'),
    ...(message.MD5OfMessageAttributes !== undefined
      ? { md5OfMessageAttributes: message.MD5OfMessageAttributes }
      : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
};

export const sqsEvent = (records: readonly SQSRecord[]): SQSEvent => ({ Records: [...records] });

/** A Context as Lambda passes it; the handlers read nothing from it but the batch processor keeps it. */
export const lambdaContext = (functionName: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:123456789012:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: `2022/03/04/[$LATEST]${randomUUID().replaceAll('-', '')}`,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
