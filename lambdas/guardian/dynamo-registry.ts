// The token registry in DynamoDB: the `webhooks` table, one item per token hash.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ReenableRecord, RegisteredWebhook, WebhookRegistry, WebhookSnapshot } from './registry.js';

export class DynamoWebhookRegistry implements WebhookRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async upsert(snapshot: WebhookSnapshot): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { token_hash: snapshot.tokenHash },
        UpdateExpression:
          'SET account = :account, webhook_id = :id, #url = :url, events = :events, active = :active, synced_at = :at, #source = :source',
        ExpressionAttributeNames: { '#url': 'url', '#source': 'source' },
        ExpressionAttributeValues: {
          ':account': snapshot.account,
          ':id': snapshot.webhookId,
          ':url': snapshot.url,
          ':events': [...snapshot.events],
          ':active': snapshot.active,
          ':at': snapshot.syncedAt,
          ':source': 'aircall',
        },
      }),
    );
  }

  async recordReenable(tokenHash: string, record: ReenableRecord): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { token_hash: tokenHash },
        UpdateExpression:
          'SET last_reenable_at = :at, last_reenable_ok = :ok, last_reenable_detail = :detail ADD reenable_attempts :one',
        ConditionExpression: 'attribute_exists(token_hash)',
        ExpressionAttributeValues: {
          ':at': record.at,
          ':ok': record.ok,
          ':detail': record.detail,
          ':one': 1,
        },
      }),
    );
  }

  async listAccount(account: string): Promise<RegisteredWebhook[]> {
    // The registry holds a few rows per account (Aircall allows 100 webhooks a company): a filtered scan is enough.
    const rows: RegisteredWebhook[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'account = :account',
        ProjectionExpression: 'token_hash, account, webhook_id',
        ExpressionAttributeValues: { ':account': account },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { token_hash: tokenHash, webhook_id: webhookId } = item;
        if (typeof tokenHash !== 'string') continue;
        rows.push({ tokenHash, account, ...(typeof webhookId === 'string' ? { webhookId } : {}) });
      }
    }
    return rows;
  }

  async remove(tokenHash: string, syncedBefore?: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { token_hash: tokenHash },
          ...(syncedBefore === undefined
            ? {}
            : {
                ConditionExpression: 'attribute_not_exists(synced_at) OR synced_at < :before',
                ExpressionAttributeValues: { ':before': syncedBefore },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
