// The DynamoDB token registry against dynalite: the guards that keep an absence write from touching the wrong row.

import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoWebhookRegistry } from '../../lambdas/guardian/dynamo-registry.js';
import { startStack, type TestStack } from '../support/stack.js';
import { clearTable, getItem } from '../support/tables.js';

const PASS_STARTED_AT = 1_700_000_100_000;
const BEFORE_THE_PASS = PASS_STARTED_AT - 60_000;

describe('DynamoWebhookRegistry', () => {
  let stack: TestStack;
  let registry: DynamoWebhookRegistry;

  const put = (item: Record<string, unknown>) =>
    stack.documents.send(new PutCommand({ TableName: stack.tables.webhooks, Item: item }));
  const row = (tokenHash: string) =>
    getItem(stack.documents, stack.tables.webhooks, { token_hash: tokenHash });
  const synced = (tokenHash: string, extra: Record<string, unknown> = {}) =>
    put({
      token_hash: tokenHash,
      account: 'acme',
      webhook_id: `id-${tokenHash}`,
      source: 'aircall',
      synced_at: BEFORE_THE_PASS,
      ...extra,
    });

  beforeAll(async () => {
    stack = await startStack();
    registry = new DynamoWebhookRegistry(stack.documents, stack.tables.webhooks);
  });

  beforeEach(async () => {
    await clearTable(stack.documents, 'webhooks', stack.tables.webhooks);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps when a webhook was last seen active once Aircall reports it inactive', async () => {
    const snapshot = {
      tokenHash: 'seen',
      account: 'acme',
      webhookId: 'id-seen',
      url: 'https://hooks.example.com/aircall',
      events: ['call.ended'],
      active: true,
      syncedAt: PASS_STARTED_AT,
    };
    await registry.upsert(snapshot);
    await registry.upsert({ ...snapshot, active: false, syncedAt: PASS_STARTED_AT + 300_000 });
    expect(await row('seen')).toMatchObject({
      active: false,
      synced_at: PASS_STARTED_AT + 300_000,
      seen_active_at: PASS_STARTED_AT,
    });
  });

  it('lists a row synced before absences were counted as missing no pass', async () => {
    await synced('old');
    expect(await registry.listAccount('acme')).toEqual([
      { tokenHash: 'old', account: 'acme', webhookId: 'id-old', source: 'aircall', missingPasses: 0 },
    ]);
  });

  it('counts an absence on a synced row, and the next upsert sets the count back to 0', async () => {
    await synced('row');
    const guard = { missingPasses: 0, syncedBefore: PASS_STARTED_AT };
    expect(await registry.countMissing('row', guard, PASS_STARTED_AT + 5)).toBe(true);
    expect(await row('row')).toMatchObject({ missing_passes: 1, last_missing_at: PASS_STARTED_AT + 5 });

    await registry.upsert({
      tokenHash: 'row',
      account: 'acme',
      webhookId: 'id-row',
      url: 'https://hooks.example.com/aircall',
      events: ['call.ended'],
      active: true,
      syncedAt: PASS_STARTED_AT + 10,
    });
    expect(await row('row')).toMatchObject({ missing_passes: 0, source: 'aircall' });
  });

  it('counts nothing and removes nothing on a row written since the pass started', async () => {
    await synced('fresh', { synced_at: PASS_STARTED_AT + 1, missing_passes: 2 });
    const guard = { missingPasses: 2, syncedBefore: PASS_STARTED_AT };
    expect(await registry.countMissing('fresh', guard, PASS_STARTED_AT)).toBe(false);
    expect(await registry.removeMissing('fresh', guard)).toBe(false);
    expect(await row('fresh')).toMatchObject({ missing_passes: 2 });
  });

  it('counts nothing and removes nothing when the count changed since the pass read it', async () => {
    await synced('moved', { missing_passes: 2 });
    const stale = { missingPasses: 1, syncedBefore: PASS_STARTED_AT };
    expect(await registry.countMissing('moved', stale, PASS_STARTED_AT)).toBe(false);
    expect(await registry.removeMissing('moved', stale)).toBe(false);
    expect(await row('moved')).toMatchObject({ missing_passes: 2 });
  });

  it('never counts or removes a row registered by hand, with or without a webhook id', async () => {
    await put({ token_hash: 'local', account: 'acme', source: 'local', webhook_id: 'w1' });
    await put({ token_hash: 'bare', account: 'acme', webhook_id: 'w2' });
    await put({ token_hash: 'no-id', account: 'acme', source: 'aircall' });
    const guard = { missingPasses: 0, syncedBefore: PASS_STARTED_AT };
    for (const tokenHash of ['local', 'bare', 'no-id']) {
      expect(await registry.countMissing(tokenHash, guard, PASS_STARTED_AT)).toBe(false);
      expect(await registry.removeMissing(tokenHash, guard)).toBe(false);
      expect((await row(tokenHash))?.missing_passes).toBeUndefined();
    }
  });

  it('writes nothing over a row registered by hand, even for a token Aircall lists, and says so', async () => {
    await put({ token_hash: 'by-hand', account: 'acme', source: 'local' });
    const written = await registry.upsert({
      tokenHash: 'by-hand',
      account: 'acme',
      webhookId: 'w1',
      url: 'https://hooks.example.com/aircall',
      events: ['call.ended'],
      active: true,
      syncedAt: PASS_STARTED_AT,
    });
    expect(written).toBe(false);
    expect(await row('by-hand')).toEqual({ token_hash: 'by-hand', account: 'acme', source: 'local' });
    await expect(
      registry.recordReenable('by-hand', { at: PASS_STARTED_AT, ok: true, detail: 'x' }),
    ).rejects.toThrow(/conditional/i);
  });

  it('removes a synced row whose count is still the one the pass read', async () => {
    await synced('due', { missing_passes: 2 });
    expect(await registry.removeMissing('due', { missingPasses: 2, syncedBefore: PASS_STARTED_AT })).toBe(
      true,
    );
    expect(await row('due')).toBeUndefined();
  });

  it('creates no row when counting the absence of one already gone', async () => {
    const guard = { missingPasses: 0, syncedBefore: PASS_STARTED_AT };
    expect(await registry.countMissing('gone', guard, PASS_STARTED_AT)).toBe(false);
    expect(await row('gone')).toBeUndefined();
  });
});
