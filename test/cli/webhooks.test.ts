// The `webhooks` command against the Aircall simulator and the embedded emulators holding the token registry.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiUrlFor } from '../../cli/aircall.js';
import { run } from '../../cli/run.js';
import { localTarget, type ResolveTarget, type TargetOptions } from '../../cli/target.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { registerToken } from '../../local/provision.js';
import { type CompanyHandle, type Simulator, startSimulator } from '../../simulator/simulator.js';
import type { CompanyConfig, Webhook } from '../../simulator/store.js';
import { type FakeAircall, startFakeAircall } from '../support/fake-aircall.js';
import { startStack, type TestStack } from '../support/stack.js';
import { getItem } from '../support/tables.js';
import { recordingIo } from './io.js';

const STACK_URL = 'https://hooks.example.test/webhooks/aircall';
const ELSEWHERE_URL = 'https://crm.example.test/aircall';
/** What a deployed stack's outputs say: its API's URL, and a custom domain in front of it. */
const DEPLOYED_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/aircall/webhook';
const DEPLOYED_CUSTOM_URL = 'https://aircall.example.test/aircall/webhook';
/** A WEBHOOK_URL left in the shell from local work, e.g. a tunnel that is long gone. */
const STRAY_URL = 'https://stray-tunnel.example.test/aircall/webhook';
// Narrower than "all events", so that a re-enable that reset the subscription would show.
const SUBSCRIBED = ['call.created', 'call.ended', 'user.connected'];

/** One company per action, so that no test sees another's webhooks or registry rows. */
const company = (account: string): CompanyConfig => ({
  account,
  apiId: `${account}-id`,
  apiToken: `${account}-api-token`,
});
const LISTER = company('lister');
const CREATOR = company('creator');
const DELETER = company('deleter');
const GUARDED = company('guarded');
const STUCK = company('stuck');
const RESET = company('reset');
const DEPLOYED_CREATOR = company('deployed-creator');
const DEPLOYED_GUARDED = company('deployed-guarded');

type Env = Readonly<Record<string, string | undefined>>;

const credentialsEnv = (config: CompanyConfig): Env => ({
  AIRCALL_ACCOUNT: config.account,
  AIRCALL_API_ID: config.apiId,
  AIRCALL_API_TOKEN: config.apiToken,
});

interface Front {
  readonly apiUrl: string;
  stop(): Promise<void>;
}

/**
 * An Aircall API that mishandles updates: it forwards everything to the simulator but drops one field from
 * the body of every PUT, as a proxy or an API change might. Dropping `active` leaves a webhook inactive;
 * dropping `events` makes the simulator subscribe it to every event again.
 */
const startMishandlingFront = async (simulator: Simulator, dropped: 'active' | 'events'): Promise<Front> => {
  const server = createServer((request, response) => {
    const forward = async (): Promise<void> => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(Buffer.from(chunk as Uint8Array));
      const method = request.method ?? 'GET';
      let body = Buffer.concat(chunks).toString('utf8');
      if (method === 'PUT') {
        const { [dropped]: _dropped, ...kept } = JSON.parse(body) as Record<string, unknown>;
        body = JSON.stringify(kept);
      }
      const upstream = await fetch(`${simulator.url}${request.url ?? '/'}`, {
        method,
        headers: {
          authorization: request.headers.authorization ?? '',
          'content-type': 'application/json',
        },
        ...(method === 'GET' || method === 'DELETE' ? {} : { body }),
      });
      const text = await upstream.text();
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    };
    forward().catch(() => response.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/v1`,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
};

const sorted = (events: readonly string[]): string[] => [...events].sort();

describe('webhooks command', () => {
  let simulator: Simulator;
  let stack: TestStack;

  const testTarget: ResolveTarget = async (options) =>
    localTarget({
      dynamoEndpoint: stack.endpoints.dynamo,
      tables: { ...stack.tables, ...options.tables },
      webhookUrl: STACK_URL,
    });

  /** Runs `webhooks <args>` with the given environment; the simulator is the Aircall API unless it names another. */
  const cli = async (env: Env, ...args: string[]) => {
    const io = recordingIo({
      resolveTarget: testTarget,
      env: { AIRCALL_API_URL: simulator.apiUrl, ...env },
    });
    const code = await run(['webhooks', ...args], io);
    return { code, out: io.out(), err: io.err(), resolutions: io.resolutions() };
  };

  const registryRow = (token: string) =>
    getItem(stack.documents, stack.tables.webhooks, { token_hash: hashToken(token) });

  const find = (handle: CompanyHandle, webhookId: string): Webhook | undefined =>
    handle.webhooks().find((webhook) => webhook.webhookId === webhookId);

  /** Deactivates a webhook through the simulator's API, keeping its subscription. */
  const deactivate = async (handle: CompanyHandle, webhook: Webhook): Promise<void> => {
    const response = await fetch(`${simulator.apiUrl}/webhooks/${webhook.webhookId}`, {
      method: 'PUT',
      headers: { authorization: handle.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ active: false, events: webhook.events }),
    });
    if (response.status !== 200) throw new Error(`deactivating answered ${response.status}`);
  };

  beforeAll(async () => {
    simulator = await startSimulator({
      companies: [LISTER, CREATOR, DELETER, GUARDED, STUCK, RESET, DEPLOYED_CREATOR, DEPLOYED_GUARDED],
      // STACK_URL and the others stand for deployed stacks: remote delivery allowed.
      allowRemoteDelivery: true,
    });
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
    await simulator?.stop();
  });

  describe('list', () => {
    let here: Webhook;
    let elsewhere: Webhook;

    beforeAll(() => {
      const lister = simulator.company(LISTER.account);
      here = lister.createWebhook({ url: STACK_URL, customName: 'stack', events: SUBSCRIBED });
      elsewhere = lister.createWebhook({ url: ELSEWHERE_URL, customName: 'crm' });
    });

    it('shows only the webhooks that point at the stack, without their tokens', async () => {
      const { code, out, err } = await cli(credentialsEnv(LISTER), 'list');

      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toMatch(new RegExp(`^${here.webhookId} +stack +true +yes +`, 'm'));
      expect(out).not.toContain(elsewhere.webhookId);
      expect(out).not.toContain(here.token);
    });

    it('shows every webhook with --all, without their tokens, as a table and as JSON', async () => {
      const table = await cli(credentialsEnv(LISTER), 'list', '--all');
      const json = await cli(credentialsEnv(LISTER), 'list', '--all', '--json');

      expect(table.code).toBe(0);
      expect(table.out).toContain(here.webhookId);
      expect(table.out).toMatch(new RegExp(`^${elsewhere.webhookId} +crm .* no +.*${ELSEWHERE_URL}$`, 'm'));
      expect(json.code).toBe(0);
      const rows = JSON.parse(json.out) as Record<string, unknown>[];
      expect(rows.map((row) => [row.webhook_id, row.points_here])).toEqual([
        [here.webhookId, true],
        [elsewhere.webhookId, false],
      ]);
      for (const output of [table.out, json.out]) {
        expect(output).not.toContain(here.token);
        expect(output).not.toContain(elsewhere.token);
      }
      expect(rows.every((row) => !('token' in row))).toBe(true);
    });

    it('says on stderr that no webhook points at the stack when none does', async () => {
      const { code, out, err } = await cli(
        { ...credentialsEnv(LISTER), WEBHOOK_URL: 'https://other-stack.example.test/aircall' },
        'list',
      );

      expect(code).toBe(0);
      expect(out).toBe('');
      expect(err).toBe(
        `No webhook of account ${LISTER.account} points at https://other-stack.example.test/aircall.\n`,
      );
    });

    it('prints what Aircall names a webhook without its control characters, in the table and the reenable report', async () => {
      const lister = simulator.company(LISTER.account);
      const webhook = lister.createWebhook({
        url: STACK_URL,
        customName: 'evil\u001b]0;pwned\u0007\u001b[2Jname',
      });

      const listed = await cli(credentialsEnv(LISTER), 'list');
      const report = await cli(credentialsEnv(LISTER), 'reenable');

      for (const output of [listed.out, report.out]) {
        expect(output).toContain(webhook.webhookId);
        const controls = [...output].filter(
          (c) => c !== '\n' && (c < ' ' || (c >= '\u007f' && c <= '\u009f')),
        );
        expect(controls).toEqual([]);
        expect(output).toContain('evilname');
      }
    });

    it('prints a webhook URL without the user-info or query secrets it may carry', async () => {
      const lister = simulator.company(LISTER.account);
      const secretUrl = 'https://hook-user:hook-pass@crm.example.test/in?key=query-secret-1f2e';
      const webhook = lister.createWebhook({ url: secretUrl, customName: 'leaky' });

      const { code, out } = await cli(credentialsEnv(LISTER), 'list', '--all');

      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`^${webhook.webhookId} +leaky .*https://crm\\.example\\.test/in$`, 'm'));
      for (const secret of ['hook-pass', 'hook-user', 'query-secret-1f2e']) expect(out).not.toContain(secret);
    });
  });

  describe('create', () => {
    it('creates a webhook to the stack with the given events and registers the hash of its token', async () => {
      const { code, out } = await cli(
        credentialsEnv(CREATOR),
        'create',
        '--name',
        'from the cli',
        '--events',
        'call.created, call.ended',
        '--json',
      );

      expect(code).toBe(0);
      const created = JSON.parse(out) as { webhook_id: string };
      const webhook = find(simulator.company(CREATOR.account), created.webhook_id);
      expect(webhook).toMatchObject({ url: STACK_URL, customName: 'from the cli', active: true });
      expect(webhook?.events).toEqual(['call.created', 'call.ended']);
      const token = webhook?.token ?? '';
      expect(await registryRow(token)).toMatchObject({
        token_hash: hashToken(token),
        account: CREATOR.account,
        webhook_id: created.webhook_id,
        url: STACK_URL,
        events: ['call.created', 'call.ended'],
        active: true,
      });
      expect(out).not.toContain(token);
    });
  });

  describe('delete', () => {
    it('deletes the webhook at Aircall and removes its registry row', async () => {
      const deleter = simulator.company(DELETER.account);
      const webhook = deleter.createWebhook({ url: STACK_URL, customName: 'doomed' });
      await registerToken(stack.dynamo, stack.tables.webhooks, webhook.token, DELETER.account, {
        webhookId: webhook.webhookId,
      });

      const { code, out } = await cli(credentialsEnv(DELETER), 'delete', webhook.webhookId);

      expect(code).toBe(0);
      expect(out).toBe(
        `Deleted ${webhook.webhookId} at Aircall and removed its token from local stack at ${stack.endpoints.dynamo}.\n`,
      );
      expect(find(deleter, webhook.webhookId)).toBeUndefined();
      expect(await registryRow(webhook.token)).toBeUndefined();
    });

    it('exits 1 for a webhook id Aircall does not know', async () => {
      const { code, err } = await cli(credentialsEnv(DELETER), 'delete', 'no-such-webhook');

      expect(code).toBe(1);
      expect(err).toMatch(
        /AircallNotFoundError: Aircall found nothing at GET \/v1\/webhooks\/no-such-webhook/,
      );
    });
  });

  describe('reenable', () => {
    it('re-enables a deactivated webhook with its events unchanged, registers it and exits 0', async () => {
      const guarded = simulator.company(GUARDED.account);
      const webhook = guarded.createWebhook({ url: STACK_URL, customName: 'guarded', events: SUBSCRIBED });
      await deactivate(guarded, webhook);

      const { code, out } = await cli(credentialsEnv(GUARDED), 'reenable');

      expect(code).toBe(0);
      expect(out).toContain(
        `${webhook.webhookId}  guarded: reenabled (active again with its events unchanged)`,
      );
      expect(find(guarded, webhook.webhookId)?.active).toBe(true);
      expect(sorted(find(guarded, webhook.webhookId)?.events ?? [])).toEqual(sorted(SUBSCRIBED));
      expect(await registryRow(webhook.token)).toMatchObject({ active: true, last_reenable_ok: true });
    });

    it('exits 1 and says so when the account credentials are refused', async () => {
      const { code, out } = await cli(
        { ...credentialsEnv(GUARDED), AIRCALL_API_TOKEN: 'a-stale-api-token' },
        'reenable',
      );

      expect(code).toBe(1);
      expect(out).toMatch(
        new RegExp(
          `^Account ${GUARDED.account}: could not list its webhooks: AircallAuthError: Aircall refused the credentials of ${GUARDED.account} for GET /v1/webhooks \\(401\\)`,
        ),
      );
      expect(out).not.toContain('a-stale-api-token');
    });

    it('exits 1 and says so when the webhook stays inactive after the update', async () => {
      const stuck = simulator.company(STUCK.account);
      const webhook = stuck.createWebhook({ url: STACK_URL, customName: 'stuck', events: SUBSCRIBED });
      await deactivate(stuck, webhook);
      const front = await startMishandlingFront(simulator, 'active');

      const { code, out } = await cli(
        { ...credentialsEnv(STUCK), AIRCALL_API_URL: front.apiUrl },
        'reenable',
      ).finally(() => front.stop());

      expect(code).toBe(1);
      expect(out).toContain(`${webhook.webhookId}  stuck: failed (still inactive after the update)`);
      expect(find(stuck, webhook.webhookId)?.active).toBe(false);
      expect(await registryRow(webhook.token)).toMatchObject({ active: false, last_reenable_ok: false });
    });

    it('exits 1 and says so when the events come back changed and cannot be restored', async () => {
      const reset = simulator.company(RESET.account);
      const webhook = reset.createWebhook({ url: STACK_URL, customName: 'reset', events: SUBSCRIBED });
      await deactivate(reset, webhook);
      const front = await startMishandlingFront(simulator, 'events');

      const { code, out } = await cli(
        { ...credentialsEnv(RESET), AIRCALL_API_URL: front.apiUrl },
        'reenable',
      ).finally(() => front.stop());

      expect(code).toBe(1);
      expect(out).toMatch(
        new RegExp(
          `${webhook.webhookId} {2}reset: failed \\(events are \\d+ events, expected ${SUBSCRIBED.join(', ')}\\)`,
        ),
      );
      expect(await registryRow(webhook.token)).toMatchObject({ last_reenable_ok: false });
    });
  });

  describe('against a deployed stack', () => {
    const asked: TargetOptions[] = [];
    /** The stack `--stack` names, as its CloudFormation outputs describe it. */
    const deployedTarget: ResolveTarget = async (options) => {
      asked.push(options);
      return {
        ...(await testTarget(options)),
        label: `stack ${options.stack ?? '?'}`,
        localEndpoint: undefined,
        webhookUrl: DEPLOYED_URL,
        webhookUrls: [DEPLOYED_URL, DEPLOYED_CUSTOM_URL],
      };
    };
    let strayApi: FakeAircall;

    beforeAll(async () => {
      // Where a stray AIRCALL_API_URL points: it must never receive the deployed account's credentials.
      strayApi = await startFakeAircall();
    });

    afterAll(async () => {
      await strayApi.close();
    });

    const deployedCli = async (config: CompanyConfig, ...args: string[]) => {
      const io = recordingIo({
        resolveTarget: deployedTarget,
        env: { ...credentialsEnv(config), WEBHOOK_URL: STRAY_URL, AIRCALL_API_URL: strayApi.baseUrl },
      });
      const code = await run(['webhooks', ...args, '--stack', 'Prod', '--api-url', simulator.apiUrl], io);
      return { code, out: io.out(), err: io.err() };
    };

    it('refuses to take WEBHOOK_URL for a deployed target named by --region alone, which has no outputs', async () => {
      const io = recordingIo({
        resolveTarget: async (options) => ({
          ...(await testTarget(options)),
          label: `region ${options.region ?? '?'}`,
          localEndpoint: undefined,
          webhookUrl: undefined,
        }),
        env: { ...credentialsEnv(DEPLOYED_CREATOR), WEBHOOK_URL: STRAY_URL },
      });

      const code = await run(
        ['webhooks', 'create', '--region', 'eu-west-1', '--api-url', simulator.apiUrl],
        io,
      );

      expect(code).toBe(2);
      expect(io.err()).toContain("this stack's webhook URL is unknown: pass --stack or --webhook-url");
      expect(
        simulator
          .company(DEPLOYED_CREATOR.account)
          .webhooks()
          .map((w) => w.url),
      ).not.toContain(STRAY_URL);
    });

    it("creates the webhook at the stack's WebhookUrl output, not at the WEBHOOK_URL of the shell", async () => {
      const { code, out } = await deployedCli(DEPLOYED_CREATOR, 'create', '--name', 'prod', '--json');

      expect(code).toBe(0);
      const created = JSON.parse(out) as { webhook_id: string; url: string; points_here: boolean };
      expect(created).toMatchObject({ url: DEPLOYED_URL, points_here: true });
      expect(find(simulator.company(DEPLOYED_CREATOR.account), created.webhook_id)?.url).toBe(DEPLOYED_URL);
      expect(asked.at(-1)).toMatchObject({ stack: 'Prod' });
    });

    it("re-enables the webhooks at every URL of the stack's outputs and none at WEBHOOK_URL", async () => {
      const guarded = simulator.company(DEPLOYED_GUARDED.account);
      const direct = guarded.createWebhook({ url: DEPLOYED_URL, customName: 'direct', events: SUBSCRIBED });
      const custom = guarded.createWebhook({
        url: DEPLOYED_CUSTOM_URL,
        customName: 'custom',
        events: SUBSCRIBED,
      });
      const stray = guarded.createWebhook({ url: STRAY_URL, customName: 'stray', events: SUBSCRIBED });
      for (const webhook of [direct, custom, stray]) await deactivate(guarded, webhook);

      const { code, out } = await deployedCli(DEPLOYED_GUARDED, 'reenable');

      expect(code).toBe(0);
      expect(out).toContain(`${direct.webhookId}  direct: reenabled`);
      expect(out).toContain(`${custom.webhookId}  custom: reenabled`);
      expect(out).not.toContain(stray.webhookId);
      expect(find(guarded, stray.webhookId)?.active).toBe(false);
      expect(await registryRow(stray.token)).toBeUndefined();
    });

    it('lets --webhook-url name the one URL to list, over the outputs', async () => {
      const { code, out } = await deployedCli(
        DEPLOYED_GUARDED,
        'list',
        '--all',
        '--json',
        '--webhook-url',
        STRAY_URL,
      );

      expect(code).toBe(0);
      const rows = JSON.parse(out) as { url: string; points_here: boolean }[];
      expect(rows.filter((row) => row.points_here).map((row) => row.url)).toEqual([STRAY_URL]);
    });

    it('sends the credentials to --api-url, never to the AIRCALL_API_URL of the shell', () => {
      expect(strayApi.requests).toEqual([]);
    });
  });

  describe('apiUrlFor', () => {
    const env = { AIRCALL_API_URL: 'http://127.0.0.1:4000/v1' };

    it("uses AIRCALL_API_URL for the local stack, and Aircall's own API for a deployed one", () => {
      expect(apiUrlFor({ localEndpoint: 'http://127.0.0.1:8000' }, undefined, env)).toBe(env.AIRCALL_API_URL);
      expect(apiUrlFor({ localEndpoint: undefined }, undefined, env)).toBe('https://api.aircall.io/v1');
    });

    it('lets --api-url win for either', () => {
      const flag = 'https://staging.example.test/v1';
      expect(apiUrlFor({ localEndpoint: 'http://127.0.0.1:8000' }, flag, env)).toBe(flag);
      expect(apiUrlFor({ localEndpoint: undefined }, flag, env)).toBe(flag);
    });
  });

  describe('usage', () => {
    it('exits 2 naming AIRCALL_API_ID and AIRCALL_API_TOKEN when no credentials are given', async () => {
      const { code, out, err, resolutions } = await cli({}, 'list');

      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toContain('AIRCALL_API_ID and AIRCALL_API_TOKEN, or AIRCALL_ACCESS_TOKEN');
      expect(err).toContain('Usage: aircall-webhook-stack webhooks <list|create|delete|reenable>');
      expect(resolutions).toBe(0);
    });

    it('exits 2 with the known actions for an unknown action', async () => {
      const { code, out, err } = await cli(credentialsEnv(LISTER), 'frobnicate');

      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toContain('unknown action "frobnicate": list, create, delete or reenable');
      expect(err).toContain('Usage: aircall-webhook-stack webhooks');
    });

    it('exits 2 on a deployed stack unless the account is named, since rows carry its name', async () => {
      const { AIRCALL_ACCOUNT: _named, ...unnamed } = credentialsEnv(LISTER);
      const io = recordingIo({
        resolveTarget: async (options) => ({ ...(await testTarget(options)), localEndpoint: undefined }),
        env: { AIRCALL_API_URL: simulator.apiUrl, ...unnamed },
      });
      const code = await run(['webhooks', 'reenable'], io);

      expect(code).toBe(2);
      expect(io.err()).toContain('name the account (--account or AIRCALL_ACCOUNT)');
    });

    it('exits 2 asking for an action when none is given', async () => {
      const { code, err } = await cli(credentialsEnv(LISTER));

      expect(code).toBe(2);
      expect(err).toContain('which action: list, create, delete or reenable?');
    });
  });
});
