import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture.js';
import { sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';
import { getItem, type Item, queryPartition, scanTable } from '../support/tables.js';

describe('local stack', () => {
  let local: TestLocalStack;

  const drained = () => waitFor(() => (local.stack.depth().queue === 0 ? true : undefined), 15_000);

  beforeAll(async () => {
    local = await startTestLocalStack();
  });

  afterAll(async () => {
    await local.dispose();
  });

  it('answers a posted sample 200 and shows it stored within 2 seconds', async () => {
    const started = Date.now();
    expect(await post(local.stack.webhookUrl, withToken(sampleBody('captured-user.created')))).toBe(200);
    const user = await waitFor(
      () => getItem(local.documents, local.settings.tables.users, { id: 749132 }),
      2000,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(user).toMatchObject({
      account: 'local',
      name: 'Koen Test FuPPaYFelC',
      last_event: 'user.created',
    });
  });

  it('answers like API Gateway for other paths and methods, and like ingest for bad bodies', async () => {
    expect(await post(local.stack.webhookUrl.replace('/aircall/webhook', '/other'), '{}')).toBe(404);
    expect((await fetch(local.stack.webhookUrl)).status).toBe(404);
    const rejected = await captureOutput(async () => [
      await post(local.stack.webhookUrl, 'not json'),
      await post(local.stack.webhookUrl, sampleBody('captured-user.created')),
    ]);
    expect(rejected.result).toEqual([400, 401]);
    // ingest logs each rejection with its reason, and never the token.
    expect(rejected.output).toMatch(/"message":"webhook rejected".*"status":400,"reason":"body is not JSON"/);
    expect(rejected.output).toMatch(/"message":"webhook rejected".*"status":401,"reason":"token unknown"/);
    expect(rejected.output).not.toContain(JSON.parse(sampleBody('captured-user.created')).token);
  });

  it('keeps one ended call and each distinct event once when the lifecycle arrives shuffled and twice', async () => {
    const lifecycle = [
      'captured-outbound-call.hungup',
      'captured-outbound-call.ended',
      'captured-outbound-call.created',
    ] as const;
    const deliveries = [...lifecycle, ...lifecycle.slice().reverse()].map((name) =>
      withToken(sampleBody(name)),
    );
    const statuses = await Promise.all(deliveries.map((body) => post(local.stack.webhookUrl, body)));
    expect(statuses).toEqual(deliveries.map(() => 200));
    await drained();

    const calls = (await scanTable(local.documents, local.settings.tables.calls)).filter(
      (c) => c.id === 780836699,
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      status: 'done',
      last_event: 'call.ended',
      duration: 20,
      user_id: 736640,
    });
    const history = await queryPartition(local.documents, local.settings.tables.events, {
      name: 'pk',
      value: 'call#780836699',
    });
    expect(history.map((event) => event.event)).toEqual(['call.created', 'call.hungup', 'call.ended']);
  });

  it('loses no event answered 200 when stopped under traffic, and keeps everything across the restart', async () => {
    const base = JSON.parse(sampleBody('captured-outbound-call.created')) as Item & { data: Item };
    const bodies = Array.from({ length: 400 }, (_, i) =>
      withToken(JSON.stringify({ ...base, data: { ...base.data, id: 2_000_000_000 + i } })),
    );
    const accepted: number[] = [];
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const i = next++;
        const status = await post(local.stack.webhookUrl, bodies[i] ?? '').catch(() => 0);
        if (status === 200) accepted.push(2_000_000_000 + i);
      }
    };
    const traffic = Promise.all(Array.from({ length: 8 }, sender));
    await waitFor(() => (accepted.length >= 100 ? true : undefined), 10_000);
    await local.stack.stop();
    await traffic;
    expect(accepted.length).toBeGreaterThanOrEqual(100);
    expect(accepted.length).toBeLessThan(bodies.length);

    await local.restart();
    await drained();
    const stored = new Set(
      (await scanTable(local.documents, local.settings.tables.calls)).map((call) => call.id),
    );
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
    expect(await getItem(local.documents, local.settings.tables.users, { id: 749132 })).toMatchObject({
      name: 'Koen Test FuPPaYFelC',
    });
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 0 });
  });
});
