// The token registry in DynamoDB: the `webhooks` table, one item per token hash.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AbsenceGuard,
  type ReenableRecord,
  type RegisteredWebhook,
  SYNCED_SOURCE,
  type WebhookRegistry,
  type WebhookSnapshot,
} from './registry.js';

/**
 * The guard of an absence write as a condition: still a synced row, not written since the pass started, and
 * holding the count the pass read (absent reads as 0, on rows synced before the count existed).
 */
const absenceCondition = (guard: AbsenceGuard) => ({
  ConditionExpression: [
    '#source = :synced',
    'attribute_exists(webhook_id)',
    '(attribute_not_exists(synced_at) OR synced_at < :before)',
    guard.missingPasses === 0
      ? '(attribute_not_exists(missing_passes) OR missing_passes = :seen)'
      : 'missing_passes = :seen',
  ].join(' AND '),
  ExpressionAttributeNames: { '#source': 'source' },
  ExpressionAttributeValues: {
    ':synced': SYNCED_SOURCE,
    ':before': guard.syncedBefore,
    ':seen': guard.missingPasses,
  },
});

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoWebhookRegistry implements WebhookRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async upsert(snapshot: WebhookSnapshot): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { token_hash: snapshot.tokenHash },
          // `seen_active_at` moves only when the webhook is active: once Aircall deactivates it, the row keeps when it
          // was last seen working, which is where a gap in its deliveries may start.
          UpdateExpression: `SET account = :account, webhook_id = :id, #url = :url, events = :events, active = :active, synced_at = :at, #source = :source, missing_passes = :zero${snapshot.active ? ', seen_active_at = :at' : ''}`,
          // A row registered by hand stays exactly as its author wrote it, even for a token Aircall knows.
          ConditionExpression: 'attribute_not_exists(token_hash) OR #source = :source',
          ExpressionAttributeNames: { '#url': 'url', '#source': 'source' },
          ExpressionAttributeValues: {
            ':account': snapshot.account,
            ':id': snapshot.webhookId,
            ':url': snapshot.url,
            ':events': [...snapshot.events],
            ':active': snapshot.active,
            ':at': snapshot.syncedAt,
            ':source': SYNCED_SOURCE,
            ':zero': 0,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordReenable(tokenHash: string, record: ReenableRecord): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { token_hash: tokenHash },
        UpdateExpression:
          'SET last_reenable_at = :at, last_reenable_ok = :ok, last_reenable_detail = :detail ADD reenable_attempts :one',
        ConditionExpression: '#source = :synced',
        ExpressionAttributeNames: { '#source': 'source' },
        ExpressionAttributeValues: {
          ':at': record.at,
          ':ok': record.ok,
          ':detail': record.detail,
          ':one': 1,
          ':synced': SYNCED_SOURCE,
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
        ProjectionExpression: 'token_hash, account, webhook_id, #source, missing_passes',
        ExpressionAttributeNames: { '#source': 'source' },
        ExpressionAttributeValues: { ':account': account },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { token_hash: tokenHash, webhook_id: webhookId, source, missing_passes: missing } = item;
        if (typeof tokenHash !== 'string') continue;
        rows.push({
          tokenHash,
          account,
          ...(typeof webhookId === 'string' ? { webhookId } : {}),
          ...(typeof source === 'string' ? { source } : {}),
          missingPasses: typeof missing === 'number' ? missing : 0,
        });
      }
    }
    return rows;
  }

  async countMissing(tokenHash: string, guard: AbsenceGuard, at: number): Promise<boolean> {
    const condition = absenceCondition(guard);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { token_hash: tokenHash },
          UpdateExpression: 'SET missing_passes = :next, last_missing_at = :at',
          ...condition,
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':next': guard.missingPasses + 1,
            ':at': at,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async removeMissing(tokenHash: string, guard: AbsenceGuard): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { token_hash: tokenHash },
          ...absenceCondition(guard),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async remove(tokenHash: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { token_hash: tokenHash } }));
  }
}
