// The ingest function's secondary adapters: the SQS events queue and the DynamoDB token registry.

import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import type { EventQueue, QueuedWebhook, RegisteredWebhook, TokenRegistry } from './ports.js';

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueuedWebhook): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: message.body,
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: message.account },
          [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: String(message.receivedAt) },
          ...(message.correlationId === undefined
            ? {}
            : {
                [MESSAGE_ATTRIBUTES.correlationId]: {
                  DataType: 'String',
                  StringValue: message.correlationId,
                },
              }),
        },
      }),
    );
  }
}

export class DynamoTokenRegistry implements TokenRegistry {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async find(tokenHash: string): Promise<RegisteredWebhook | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { token_hash: { S: tokenHash } },
        ProjectionExpression: 'token_hash, account',
      }),
    );
    const storedHash = Item?.token_hash?.S;
    const account = Item?.account?.S;
    return storedHash !== undefined && account !== undefined ? { tokenHash: storedHash, account } : undefined;
  }
}
