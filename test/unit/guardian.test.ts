import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  guardAccount,
  guardAccounts,
  needsAttention,
  PassTimedOutError,
  sameUrl,
} from '../../lambdas/guardian/guardian.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { type FakeAircall, type ScriptedReply, startFakeAircall } from '../support/fake-aircall.js';
import {
  ALL_EVENTS,
  MemoryAircall,
  type MemoryAircallOptions,
  MemoryRegistry,
} from '../support/memory-aircall.js';

const STACK_URL = 'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook';
const CUSTOM_URL = 'https://hooks.example.com/aircall/webhook';
const ELSEWHERE_URL = 'https://elsewhere.example/hook';
const SUBSCRIBED = ['call.created', 'call.ended'];

const setup = (options: MemoryAircallOptions = {}) => {
  const api = new MemoryAircall(options);
  const registry = new MemoryRegistry();
  let clock = 1_700_000_000_000;
  // Each reading a millisecond later, as time passes between two passes.
  const deps = { api, registry, stackUrls: [STACK_URL], now: () => clock++ };
  return { api, registry, deps };
};

/** Lets every promise already settled run its callbacks: the fakes never wait on a timer. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

  it('keeps a webhook on a custom domain URL as well as on the API URL, and no other', async () => {
    const { api, registry, deps } = setup();
    const custom = api.add({ url: `${CUSTOM_URL}/`, events: SUBSCRIBED, active: false });
    const direct = api.add({ url: STACK_URL });
    api.add({ url: ELSEWHERE_URL, active: false });
    const report = await guardAccount('acme', { ...deps, stackUrls: [STACK_URL, CUSTOM_URL] });
    expect(report.webhooks.map((w) => [w.webhookId, w.action]).sort()).toEqual(
      [
        [custom.webhookId, 'reenabled'],
        [direct.webhookId, 'active'],
      ].sort(),
    );
    expect([...registry.rows.keys()].sort()).toEqual(
      [hashToken(custom.token), hashToken(direct.token)].sort(),
    );
  });

  it('removes a row only on the third complete listing in a row without its webhook', async () => {
    const { api, registry, deps } = setup();
    const gone = api.add({ url: STACK_URL });
    api.add({ url: ELSEWHERE_URL });
    await guardAccount('acme', deps);
    await api.deleteWebhook(gone.webhookId);
    const row = () => registry.rows.get(hashToken(gone.token));

    const first = await guardAccount('acme', deps);
    const second = await guardAccount('acme', deps);
    expect([first.missing, second.missing]).toEqual([
      [{ webhookId: gone.webhookId, passes: 1 }],
      [{ webhookId: gone.webhookId, passes: 2 }],
    ]);
    expect([first.removed, second.removed]).toEqual([[], []]);
    expect(row()?.missingPasses).toBe(2);

    const third = await guardAccount('acme', deps);
    expect(third).toMatchObject({ missing: [], removed: [gone.webhookId], registered: 0 });
    expect(row()).toBeUndefined();
  });

  it('counts no absence in a pass told it knows only some of the URLs, and still re-enables', async () => {
    const { api, registry, deps } = setup();
    const gone = api.add({ url: STACK_URL });
    const off = api.add({ url: STACK_URL, active: false });
    await guardAccount('acme', deps);
    await api.deleteWebhook(gone.webhookId);
    await api.updateWebhook(off.webhookId, { active: false, events: off.events });

    const partial = { ...deps, countAbsences: false };
    const passes = [
      await guardAccount('acme', partial),
      await guardAccount('acme', partial),
      await guardAccount('acme', partial),
    ];

    expect(passes.map((pass) => [pass.missing, pass.removed])).toEqual([
      [[], []],
      [[], []],
      [[], []],
    ]);
    expect(registry.rows.get(hashToken(gone.token))?.missingPasses).toBe(0);
    expect(passes[0]?.webhooks).toContainEqual(
      expect.objectContaining({ webhookId: off.webhookId, action: 'reenabled' }),
    );
  });

  it('resets the count when the webhook is listed again, so the absences must start over', async () => {
    const { api, registry, deps } = setup();
    const flaky = api.add({ url: STACK_URL });
    api.add({ url: ELSEWHERE_URL });
    await guardAccount('acme', deps);
    api.webhooks.delete(flaky.webhookId);
    await guardAccount('acme', deps);
    await guardAccount('acme', deps);
    expect(registry.rows.get(hashToken(flaky.token))?.missingPasses).toBe(2);

    api.webhooks.set(flaky.webhookId, flaky);
    await guardAccount('acme', deps);
    expect(registry.rows.get(hashToken(flaky.token))?.missingPasses).toBe(0);

    api.webhooks.delete(flaky.webhookId);
    const reports = [await guardAccount('acme', deps), await guardAccount('acme', deps)];
    expect(reports.map((r) => r.removed)).toEqual([[], []]);
    expect(registry.rows.get(hashToken(flaky.token))?.missingPasses).toBe(2);
    expect((await guardAccount('acme', deps)).removed).toEqual([flaky.webhookId]);
  });

  it('counts a webhook repointed elsewhere as absent, and removes its row after the same passes', async () => {
    const { api, registry, deps } = setup();
    const moved = api.add({ url: STACK_URL });
    await guardAccount('acme', deps);
    api.webhooks.set(moved.webhookId, { ...moved, url: ELSEWHERE_URL });
    const reports = [];
    for (let pass = 0; pass < 3; pass += 1) reports.push(await guardAccount('acme', deps));
    expect(reports.map((r) => r.removed)).toEqual([[], [], [moved.webhookId]]);
    expect(registry.rows.size).toBe(0);
  });

  it('removes on the first absence when told to wait for one pass only', async () => {
    const { api, deps } = setup();
    const gone = api.add({ url: STACK_URL });
    api.add({ url: ELSEWHERE_URL });
    await guardAccount('acme', deps);
    await api.deleteWebhook(gone.webhookId);
    const report = await guardAccount('acme', { ...deps, removeAfterMissingPasses: 1 });
    expect(report.removed).toEqual([gone.webhookId]);
  });

  it('never touches rows it did not sync: no webhook id, or another source', async () => {
    const { api, registry, deps } = setup();
    api.add({ url: ELSEWHERE_URL });
    registry.rows.set('manual', { tokenHash: 'manual', account: 'acme', source: 'local' });
    registry.rows.set('local-with-id', {
      tokenHash: 'local-with-id',
      account: 'acme',
      webhookId: 'w-local',
      source: 'local',
    });
    registry.rows.set('no-source', { tokenHash: 'no-source', account: 'acme', webhookId: 'w-old' });
    registry.rows.set('other', { tokenHash: 'other', account: 'globex', webhookId: 'x', source: 'aircall' });
    const before = structuredClone([...registry.rows.entries()]);

    const reports = [];
    for (let pass = 0; pass < 4; pass += 1) reports.push(await guardAccount('acme', deps));

    expect(reports.flatMap((r) => [...r.missing, ...r.removed])).toEqual([]);
    expect([...registry.rows.entries()]).toEqual(before);
    expect(reports.at(-1)?.registered).toBe(3);
  });

  it('re-enables a webhook whose token was registered by hand, and leaves that row exactly as it was', async () => {
    const { api, registry, deps } = setup();
    const hook = api.add({ url: STACK_URL, events: SUBSCRIBED, active: false });
    const byHand = { tokenHash: hashToken(hook.token), account: 'acme', source: 'local' };
    registry.rows.set(byHand.tokenHash, byHand);
    const report = await guardAccount('acme', deps);
    expect(report.webhooks).toEqual([expect.objectContaining({ action: 'reenabled' })]);
    expect(api.webhooks.get(hook.webhookId)?.active).toBe(true);
    expect(registry.rows.get(byHand.tokenHash)).toEqual(byHand);
  });

  it('deletes nothing and counts nothing when Aircall lists no webhook at all while rows exist', async () => {
    const { registry, deps } = setup();
    registry.seedSynced({ tokenHash: 'due', account: 'acme', webhookId: 'w1', missingPasses: 2 });
    const report = await guardAccount('acme', deps);
    expect(report).toMatchObject({ listed: true, missing: [], removed: [], registered: 1 });
    expect(report.incomplete).toBe('Aircall listed no webhook while the registry holds 1 synced row(s)');
    expect(registry.rows.get('due')?.missingPasses).toBe(2);
  });

  it('re-enables what an incomplete listing shows, and counts no absence from it', async () => {
    const { api, registry, deps } = setup();
    const dead = api.add({ url: STACK_URL, active: false });
    registry.seedSynced({ tokenHash: 'due', account: 'acme', webhookId: 'w1', missingPasses: 2 });
    api.incompleteList = 'the webhook list held 1 of 2 webhooks';
    const report = await guardAccount('acme', deps);
    expect(report).toMatchObject({
      incomplete: 'the webhook list held 1 of 2 webhooks',
      webhooks: [{ webhookId: dead.webhookId, action: 'reenabled' }],
      missing: [],
      removed: [],
    });
    expect(registry.rows.get('due')?.missingPasses).toBe(2);
  });

  it('keeps a row registered while the pass was running, though the pass did not list its webhook', async () => {
    const { api, registry, deps } = setup();
    api.add({ url: ELSEWHERE_URL });
    let clock = 1_000;
    const registerDuringPass = {
      ...deps,
      removeAfterMissingPasses: 1,
      now: () => clock,
      api: Object.assign(Object.create(deps.api) as typeof deps.api, {
        listWebhooks: async () => {
          const listing = await api.listWebhooks();
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
          return listing;
        },
      }),
    };
    const report = await guardAccount('acme', registerDuringPass);
    expect(report).toMatchObject({ removed: [], missing: [] });
    expect(registry.rows.get('fresh')?.missingPasses).toBe(0);
  });

  it('counts an absence once when another pass counted it since this one read the row', async () => {
    const { api, registry, deps } = setup();
    api.add({ url: ELSEWHERE_URL });
    registry.seedSynced({ tokenHash: 'row', account: 'acme', webhookId: 'w1', missingPasses: 1 });
    const racing = {
      ...deps,
      registry: Object.assign(Object.create(registry) as MemoryRegistry, {
        listAccount: async (account: string) => {
          const rows = await registry.listAccount(account);
          // Another pass counts the same absence between this pass's read and its write.
          await registry.countMissing('row', { missingPasses: 1, syncedBefore: Number.MAX_SAFE_INTEGER });
          return rows;
        },
      }),
    };
    const report = await guardAccount('acme', racing);
    expect(report).toMatchObject({ missing: [], removed: [] });
    expect(registry.rows.get('row')?.missingPasses).toBe(2);
  });

  it('changes nothing when the webhooks cannot be listed', async () => {
    const { api, registry, deps } = setup();
    registry.seedSynced({ tokenHash: 'kept', account: 'acme', webhookId: 'w1', missingPasses: 2 });
    api.failList = true;
    const report = await guardAccount('acme', deps);
    expect(report).toMatchObject({ listed: false, error: 'Error: list failed', missing: [], removed: [] });
    expect(report.registered).toBeUndefined();
    expect(registry.rows.get('kept')?.missingPasses).toBe(2);
    expect(needsAttention([report])).toBe(true);
  });

  it('writes nothing once its time is up, though the listing came back', async () => {
    const { api, registry, deps } = setup();
    api.add({ url: STACK_URL, active: false });
    api.add({ url: ELSEWHERE_URL });
    registry.seedSynced({ tokenHash: 'due', account: 'acme', webhookId: 'w1', missingPasses: 2 });
    const before = structuredClone([...registry.rows.entries()]);
    const controller = new AbortController();
    const late = {
      ...deps,
      api: Object.assign(Object.create(api) as MemoryAircall, {
        listWebhooks: async () => {
          const listing = await api.listWebhooks();
          controller.abort(new PassTimedOutError('did not finish within 1 s'));
          return listing;
        },
      }),
    };
    await expect(guardAccount('acme', late, { signal: controller.signal })).rejects.toThrow(
      PassTimedOutError,
    );
    expect([...registry.rows.entries()]).toEqual(before);
    expect(api.calls.filter((call) => call.startsWith('put'))).toEqual([]);
  });
});

describe('guardAccount with the Aircall client', () => {
  let fake: FakeAircall;

  beforeEach(async () => {
    fake = await startFakeAircall();
  });

  afterEach(async () => {
    await fake.close();
  });

  const wire = (id: string, url: string) => ({
    webhook_id: id,
    url,
    custom_name: id,
    active: true,
    token: `token-${id}`,
    events: SUBSCRIBED,
  });
  const page = (webhooks: unknown[], total: number, next: string | null): ScriptedReply => ({
    status: 200,
    json: { webhooks, meta: { count: webhooks.length, total, next_page_link: next } },
  });
  const serverError: ScriptedReply = { status: 500, json: { error: 'Internal Server Error' } };

  const pass = (registry: MemoryRegistry) =>
    guardAccount('acme', {
      api: new AircallClient({
        credentials: { account: 'acme', apiId: 'id', apiToken: 'secret' },
        baseUrl: fake.baseUrl,
        sleep: async () => undefined,
      }),
      registry,
      stackUrls: [STACK_URL],
      now: () => 1_700_000_000_000,
      removeAfterMissingPasses: 1,
    });

  it('deletes nothing when a page fails halfway through the listing', async () => {
    const registry = new MemoryRegistry();
    registry.seedSynced({
      tokenHash: hashToken('token-second'),
      account: 'acme',
      webhookId: 'second',
      missingPasses: 0,
    });
    fake.script(
      page([wire('first', ELSEWHERE_URL)], 2, `${fake.baseUrl}/webhooks?page=2&per_page=50`),
      serverError,
      serverError,
      serverError,
    );
    const report = await pass(registry);
    expect(report).toMatchObject({ listed: false, removed: [], missing: [] });
    expect(report.error).toMatch(/^AircallServerError: /);
    expect(registry.rows.get(hashToken('token-second'))).toMatchObject({ missingPasses: 0 });
  });

  it('deletes nothing when the pages hold fewer webhooks than the total Aircall announced', async () => {
    const registry = new MemoryRegistry();
    registry.seedSynced({ tokenHash: hashToken('token-second'), account: 'acme', webhookId: 'second' });
    fake.script(page([wire('first', ELSEWHERE_URL)], 2, null));
    const report = await pass(registry);
    expect(report).toMatchObject({
      listed: true,
      incomplete: 'the webhook list held 1 of 2 webhooks',
      removed: [],
    });
    expect(registry.rows.has(hashToken('token-second'))).toBe(true);
  });

  it('deletes nothing when a webhook created during the listing shifts the second page', async () => {
    const registry = new MemoryRegistry();
    registry.seedSynced({ tokenHash: hashToken('token-gone'), account: 'acme', webhookId: 'gone' });
    const first = Array.from({ length: 50 }, (_, i) => wire(`w${i}`, ELSEWHERE_URL));
    fake.script(
      page(first, 51, `${fake.baseUrl}/webhooks?page=2&per_page=50`),
      page([wire('w49', ELSEWHERE_URL), wire('w50', ELSEWHERE_URL)], 52, null),
    );
    const report = await pass(registry);
    expect(report.incomplete).toBe('the webhook list changed while it was read (totals 51, 52)');
    expect(report.removed).toEqual([]);
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
  it('lets a pass that ran out of time write nothing when its listing comes back later', async () => {
    const { api, registry, deps } = setup();
    api.add({ url: ELSEWHERE_URL });
    registry.seedSynced({ tokenHash: 'due', account: 'acme', webhookId: 'w1', missingPasses: 2 });
    let answer: () => void = () => undefined;
    const slowList = api.listWebhooks.bind(api);
    api.listWebhooks = () =>
      new Promise((resolve) => {
        answer = () => resolve(slowList());
      });

    const [report] = await guardAccounts([{ account: 'acme', deps }], { timeoutMs: 1 });
    answer();
    await settle();

    expect(report).toMatchObject({ listed: false, error: 'did not finish within 0 s' });
    expect(registry.rows.get('due')?.missingPasses).toBe(2);
  });

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
