import { describe, expect, it } from 'vitest';
import { guardAccount, guardAccounts, needsAttention, sameUrl } from '../../lambdas/guardian/guardian.js';
import { hashToken } from '../../lambdas/shared/token.js';
import {
  ALL_EVENTS,
  MemoryAircall,
  type MemoryAircallOptions,
  MemoryRegistry,
} from '../support/memory-aircall.js';

const STACK_URL = 'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook';
const SUBSCRIBED = ['call.created', 'call.ended'];

const setup = (options: MemoryAircallOptions = {}) => {
  const api = new MemoryAircall(options);
  const registry = new MemoryRegistry();
  let clock = 1_700_000_000_000;
  // Each reading a millisecond later, as time passes between two passes.
  const deps = { api, registry, stackUrl: STACK_URL, now: () => clock++ };
  return { api, registry, deps };
};

describe('guardAccount', () => {
  it('registers the active webhooks that point here and leaves them alone', async () => {
    const { api, registry, deps } = setup();
    const ours = api.add({ url: `${STACK_URL}/`, events: SUBSCRIBED });
    api.add({ url: 'https://elsewhere.example/hook' });
    const report = await guardAccount('acme', deps);
    expect(report).toMatchObject({
      listed: true,
      removed: [],
      webhooks: [{ webhookId: ours.webhookId, action: 'active' }],
    });
    expect([...registry.rows.keys()]).toEqual([hashToken(ours.token)]);
    expect(registry.rows.get(hashToken(ours.token))).toMatchObject({
      account: 'acme',
      active: true,
      events: SUBSCRIBED,
    });
    expect(api.calls.filter((call) => call.startsWith('put'))).toEqual([]);
  });

  it('re-enables a deactivated webhook with its own event list and proves it by reading back', async () => {
    const { api, registry, deps } = setup();
    const hook = api.add({ url: STACK_URL, events: SUBSCRIBED, active: false });
    const report = await guardAccount('acme', deps);
    expect(report.webhooks).toEqual([expect.objectContaining({ action: 'reenabled', events: SUBSCRIBED })]);
    expect(api.calls).toContain(
      `put ${hook.webhookId} ${JSON.stringify({ active: true, events: SUBSCRIBED })}`,
    );
    expect(api.webhooks.get(hook.webhookId)).toMatchObject({ active: true, events: SUBSCRIBED });
    expect(registry.rows.get(hashToken(hook.token))).toMatchObject({
      active: true,
      reenables: [{ ok: true, at: expect.any(Number) }],
    });
    expect(needsAttention([report])).toBe(false);
  });

  it('restores the events when the read-back shows them reset, and reports when they stay wrong', async () => {
    const resetting = setup({ onPut: 'reset-to-all' });
    resetting.api.add({ url: STACK_URL, events: SUBSCRIBED, active: false });
    const report = await guardAccount('acme', resetting.deps);
    expect(report.webhooks[0]).toMatchObject({ action: 'failed', events: SUBSCRIBED });
    expect(report.webhooks[0]?.detail).toContain(`expected ${SUBSCRIBED.join(', ')}`);
    expect(needsAttention([report])).toBe(true);
    const [row] = [...resetting.registry.rows.values()];
    expect(row?.reenables).toEqual([expect.objectContaining({ ok: false })]);
  });

  it('counts a webhook that stays inactive after the update as failed', async () => {
    const { api, deps } = setup({ onPut: 'ignore-active' });
    api.add({ url: STACK_URL, events: SUBSCRIBED, active: false });
    const report = await guardAccount('acme', deps);
    expect(report.webhooks[0]).toMatchObject({ action: 'failed', detail: 'still inactive after the update' });
  });

  it('keeps a webhook registered when Aircall fails during its re-enable', async () => {
    const { api, registry, deps } = setup();
    const hook = api.add({ url: STACK_URL, active: false });
    api.getWebhook = async () => {
      throw new Error('timeout');
    };
    const report = await guardAccount('acme', deps);
    expect(report.webhooks[0]).toMatchObject({ action: 'failed', detail: 'Error: timeout' });
    expect(registry.rows.get(hashToken(hook.token))).toMatchObject({
      active: false,
      reenables: [{ ok: false }],
    });
  });

  it('removes rows of webhooks that no longer point here, but never rows registered by hand', async () => {
    const { api, registry, deps } = setup();
    const gone = api.add({ url: STACK_URL });
    await guardAccount('acme', deps);
    await api.deleteWebhook(gone.webhookId);
    registry.rows.set('manual', { tokenHash: 'manual', account: 'acme' });
    registry.rows.set('other', { tokenHash: 'other', account: 'globex', webhookId: 'x' });
    const report = await guardAccount('acme', deps);
    expect(report.removed).toEqual([gone.webhookId]);
    expect([...registry.rows.keys()].sort()).toEqual(['manual', 'other']);
  });

  it('keeps a row registered while the pass was running, though the pass did not list its webhook', async () => {
    const { registry, deps } = setup();
    let clock = 1_000;
    const registerDuringPass = {
      ...deps,
      now: () => clock,
      api: Object.assign(Object.create(deps.api) as typeof deps.api, {
        listWebhooks: async () => {
          clock = 2_000;
          await registry.upsert({
            tokenHash: 'fresh',
            account: 'acme',
            webhookId: 'created-meanwhile',
            url: STACK_URL,
            events: [],
            active: true,
            syncedAt: clock,
          });
          return [];
        },
      }),
    };
    const report = await guardAccount('acme', registerDuringPass);
    expect(report.removed).toEqual([]);
    expect(registry.rows.has('fresh')).toBe(true);
  });

  it('changes nothing when the webhooks cannot be listed', async () => {
    const { api, registry, deps } = setup();
    registry.rows.set('kept', { tokenHash: 'kept', account: 'acme', webhookId: 'w1' });
    api.failList = true;
    const report = await guardAccount('acme', deps);
    expect(report).toMatchObject({ listed: false, error: 'Error: list failed', removed: [] });
    expect(registry.rows.has('kept')).toBe(true);
    expect(needsAttention([report])).toBe(true);
  });
});

describe('guardAccounts', () => {
  it('checks every account even when one of them fails', async () => {
    const broken = setup();
    broken.api.failList = true;
    const healthy = setup();
    healthy.api.add({ url: STACK_URL, events: [...ALL_EVENTS], active: false });
    const reports = await guardAccounts([
      { account: 'broken', deps: broken.deps },
      { account: 'healthy', deps: healthy.deps },
    ]);
    expect(reports.map((r) => [r.account, r.listed])).toEqual([
      ['broken', false],
      ['healthy', true],
    ]);
    expect(reports[1]?.webhooks[0]?.action).toBe('reenabled');
  });
});

describe('guardAccounts with a time limit', () => {
  it('reports a slow account as unfinished while the others report on time', async () => {
    const slow = setup();
    slow.api.listWebhooks = () => new Promise(() => undefined);
    const quick = setup();
    quick.api.add({ url: STACK_URL });
    const seen: string[] = [];
    const reports = await guardAccounts(
      [
        { account: 'slow', deps: slow.deps },
        { account: 'quick', deps: quick.deps },
      ],
      { timeoutMs: 50, onReport: (report) => seen.push(report.account) },
    );
    expect(reports[0]).toMatchObject({ account: 'slow', listed: false, error: 'did not finish within 0 s' });
    expect(reports[1]).toMatchObject({ account: 'quick', listed: true });
    expect(seen).toEqual(['quick', 'slow']);
  });
});

describe('sameUrl', () => {
  it('ignores a trailing slash and the case of scheme and host, not of the path', () => {
    expect(
      sameUrl('https://API.example.com/aircall/webhook/', 'https://api.example.com/aircall/webhook'),
    ).toBe(true);
    expect(
      sameUrl('https://api.example.com/Aircall/webhook', 'https://api.example.com/aircall/webhook'),
    ).toBe(false);
  });
});
