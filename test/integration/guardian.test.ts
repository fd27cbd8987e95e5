import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { localTarget } from '../../cli/target.js';
import { DynamoWebhookRegistry } from '../../lambdas/guardian/dynamo-registry.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { type Simulator, startSimulator } from '../../simulator/simulator.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../support/local.js';
import { queryPartition } from '../support/tables.js';

const COMPANY = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-secret-token' } as const;
// A subscription narrower than "all events", so that a re-enable that reset it would show.
const SUBSCRIBED = [
  'call.created',
  'call.answered',
  'call.hungup',
  'call.ended',
  'call.tagged',
  'call.commented',
  'call.voicemail_left',
  'user.connected',
  'user.disconnected',
];

describe('guardian end to end on the local stack', () => {
  let simulator: Simulator;
  let local: TestLocalStack;
  let api: AircallClient;

  beforeAll(async () => {
    simulator = await startSimulator({
      companies: [COMPANY],
      retryDelayMs: 50,
      deliveryTimeoutMs: 2000,
      duplicateRate: 0.1,
      seed: 7,
    });
    local = await startTestLocalStack();
    api = new AircallClient({ credentials: COMPANY, baseUrl: simulator.apiUrl });
  });

  afterAll(async () => {
    simulator.stopTraffic();
    await simulator.stop();
    await local.dispose();
  });

  const cli = async (args: string[]) => {
    let stdout = '';
    const code = await run(['webhooks', ...args], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stdout += text;
      },
      stderrIsTty: false,
      env: {
        AIRCALL_API_URL: simulator.apiUrl,
        AIRCALL_ACCOUNT: COMPANY.account,
        AIRCALL_API_ID: COMPANY.apiId,
        AIRCALL_API_TOKEN: COMPANY.apiToken,
      },
      now: () => new Date(),
      resolveTarget: async () =>
        localTarget({
          dynamoEndpoint: `http://127.0.0.1:${local.settings.dynamoPort}`,
          tables: local.settings.tables,
          webhookUrl: local.stack.webhookUrl,
        }),
    });
    return { code, stdout };
  };

  it('re-enables a webhook Aircall deactivated while the stack was down, and every delivered event is stored', async () => {
    const created = await cli(['create', '--name', 'e2e', '--events', SUBSCRIBED.join(','), '--json']);
    expect(created.code).toBe(0);
    const webhookId = (JSON.parse(created.stdout) as { webhook_id: string }).webhook_id;
    expect(created.stdout).not.toContain((await api.getWebhook(webhookId)).token);

    // Traffic while the stack is up: delivered and stored.
    simulator.generate(4);
    await simulator.flush({ timeoutMs: 20_000 });
    const before = simulator.stats().webhooks.find((w) => w.webhookId === webhookId);
    expect(before).toMatchObject({ active: true, failures: 0 });
    expect(before?.delivered).toBeGreaterThan(10);

    // The stack goes down; Aircall keeps trying and deactivates the webhook after ten failures.
    await local.stack.stop();
    simulator.generate(4);
    await waitFor(
      () => (simulator.stats().webhooks.find((w) => w.webhookId === webhookId)?.active ? undefined : true),
      20_000,
    );
    expect((await api.getWebhook(webhookId)).active).toBe(false);

    // It comes back; one guardian pass re-enables the webhook with its event list untouched.
    await local.restart();
    const pass = await cli(['reenable']);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain(`${webhookId}  e2e: reenabled`);
    const after = await api.getWebhook(webhookId);
    expect(after.active).toBe(true);
    expect([...after.events].sort()).toEqual([...SUBSCRIBED].sort());
    const registry = new DynamoWebhookRegistry(local.documents, local.settings.tables.webhooks);
    expect(await registry.listAccount(COMPANY.account)).toEqual([
      {
        tokenHash: hashToken(after.token),
        account: COMPANY.account,
        webhookId,
        source: 'aircall',
        missingPasses: 0,
      },
    ]);

    // Deliveries resume: what waited is delivered, and everything the simulator counts as delivered is stored.
    await simulator.flush({ timeoutMs: 30_000 });
    await waitFor(() => (local.stack.depth().queue === 0 ? true : undefined), 15_000);
    const delivered = simulator.delivered(webhookId);
    const stats = simulator.stats().webhooks.find((w) => w.webhookId === webhookId);
    expect(stats).toMatchObject({ active: true, pending: 0, deactivations: 1 });
    expect(delivered.length).toBe(stats?.delivered);
    expect(delivered.length).toBeGreaterThan(before?.delivered ?? 0);

    const missing: string[] = [];
    for (const event of delivered) {
      const rows = await queryPartition(local.documents, local.settings.tables.events, {
        name: 'pk',
        value: `${event.resource}#${String(event.id)}`,
      });
      // The row's sort key ends with the first 16 hex digits of the event's digest.
      if (!rows.some((row) => String(row.sk).endsWith(`#${event.digest.slice(0, 16)}`)))
        missing.push(event.key);
    }
    expect(missing).toEqual([]);
  }, 120_000);
});
