// The guardian handler against dynalite, the Aircall simulator and a fake Secrets Manager: one scheduled pass.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountReport } from '../../lambdas/guardian/guardian.js';
import { createGuardianHandler, guardianDependencies } from '../../lambdas/guardian/handler.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { GUARDIAN_METRICS } from '../../lib/definitions/metrics.js';
import { lambdaContext } from '../../local/lambda-events.js';
import { registerToken } from '../../local/provision.js';
import { type CompanyHandle, type Simulator, startSimulator } from '../../simulator/simulator.js';
import type { Webhook } from '../../simulator/store.js';
import { type Captured, captureOutput } from '../support/capture.js';
import { startStack, type TestStack, testLogger } from '../support/stack.js';
import { getItem } from '../support/tables.js';

const STACK_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/aircall';
const CUSTOM_URL = 'https://hooks.example.test/webhooks/aircall';
const ELSEWHERE_URL = 'https://crm.example.test/aircall';
const SECRET_ID = 'aircall/guardian-credentials';
const ACME = {
  account: 'acme',
  apiId: 'acme-id',
  apiToken: 'acme-api-token-b7c1',
  accessToken: 'acme-oauth-access-token-5e2d',
} as const;
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-api-token-9f30' } as const;
/** What the secret holds for globex instead of its real token. */
const GLOBEX_WRONG_TOKEN = 'globex-stale-api-token-41aa';
// Narrower than "all events", so that a re-enable that reset the subscription would show.
const SUBSCRIBED = ['call.created', 'call.answered', 'call.ended', 'user.connected'];
const VANISHED = { token: 'vanished-webhook-token-0c77', webhookId: 'vanished-webhook-id' } as const;
const HAND_REGISTERED_TOKEN = 'hand-registered-token-d311';
/** Registered by hand under an Aircall webhook id: still not the guardian's to remove. */
const HAND_REGISTERED_WITH_ID = {
  token: 'hand-registered-token-77b0',
  webhookId: 'hand-webhook-id',
} as const;

const SECRET = JSON.stringify([
  { account: ACME.account, access_token: ACME.accessToken },
  { account: GLOBEX.account, api_id: GLOBEX.apiId, api_token: GLOBEX_WRONG_TOKEN },
]);

interface SecretsRequest {
  readonly target: string | undefined;
  readonly secretId: unknown;
}

interface FakeSecretsManager {
  readonly url: string;
  readonly requests: readonly SecretsRequest[];
  stop(): Promise<void>;
}

const readText = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
};

/** Answers the JSON-1.1 GetSecretValue call for the secrets it holds, and a service error for anything else. */
const startFakeSecretsManager = async (
  secrets: Readonly<Record<string, string>>,
): Promise<FakeSecretsManager> => {
  const requests: SecretsRequest[] = [];
  const server = createServer((request, response) => {
    readText(request).then((text) => {
      const target = request.headers['x-amz-target'];
      const secretId = (JSON.parse(text === '' ? '{}' : text) as { SecretId?: unknown }).SecretId;
      requests.push({ target: typeof target === 'string' ? target : undefined, secretId });
      const secret = typeof secretId === 'string' ? secrets[secretId] : undefined;
      const answer = (status: number, body: unknown): void => {
        response
          .writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify(body));
      };
      if (
        target !== 'secretsmanager.GetSecretValue' ||
        secret === undefined ||
        typeof secretId !== 'string'
      ) {
        answer(400, {
          __type: 'ResourceNotFoundException',
          message: 'Secrets Manager cannot find the secret',
        });
        return;
      }
      answer(200, {
        ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secretId}-AbCdEf`,
        Name: secretId,
        SecretString: secret,
        VersionId: '11111111-2222-3333-4444-555555555555',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
};

/** Deactivates a webhook the way a client would, through the simulator's API, keeping its subscription. */
const deactivate = async (simulator: Simulator, company: CompanyHandle, webhook: Webhook): Promise<void> => {
  const response = await fetch(`${simulator.apiUrl}/webhooks/${webhook.webhookId}`, {
    method: 'PUT',
    headers: { authorization: company.authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ active: false, events: webhook.events }),
  });
  if (response.status !== 200) throw new Error(`deactivating answered ${response.status}`);
};

const current = (company: CompanyHandle, webhookId: string): Webhook | undefined =>
  company.webhooks().find((webhook) => webhook.webhookId === webhookId);

const sorted = (events: readonly string[]): string[] => [...events].sort();

/** The EMF documents a run printed, in order. */
const emfLines = (output: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('guardian handler', () => {
  let simulator: Simulator;
  let secrets: FakeSecretsManager;
  let stack: TestStack;
  let ours: Webhook;
  let custom: Webhook;
  let elsewhere: Webhook;
  let globexOurs: Webhook;
  let pass: Captured<AccountReport[]>;

  const report = (account: string): AccountReport | undefined =>
    pass.result.find((candidate) => candidate.account === account);
  const registered = (token: string) =>
    getItem(stack.documents, stack.tables.webhooks, { token_hash: hashToken(token) });

  beforeAll(async () => {
    // STACK_URL stands for a deployed stack: remote delivery allowed.
    simulator = await startSimulator({ companies: [ACME, GLOBEX], allowRemoteDelivery: true });
    const acme = simulator.company(ACME.account);
    const globex = simulator.company(GLOBEX.account);
    ours = acme.createWebhook({ url: STACK_URL, customName: 'stack', events: SUBSCRIBED });
    custom = acme.createWebhook({ url: `${CUSTOM_URL}/`, customName: 'custom domain', events: SUBSCRIBED });
    elsewhere = acme.createWebhook({ url: ELSEWHERE_URL, customName: 'crm', events: ['call.ended'] });
    globexOurs = globex.createWebhook({ url: STACK_URL, customName: 'globex stack', events: SUBSCRIBED });
    for (const [company, webhook] of [
      [acme, ours],
      [acme, elsewhere],
      [globex, globexOurs],
    ] as const)
      await deactivate(simulator, company, webhook);

    secrets = await startFakeSecretsManager({ [SECRET_ID]: SECRET });
    stack = await startStack();
    // Synced from Aircall two passes ago, and missing from the two listings since: this pass is its third absence.
    await stack.documents.send(
      new PutCommand({
        TableName: stack.tables.webhooks,
        Item: {
          token_hash: hashToken(VANISHED.token),
          account: ACME.account,
          webhook_id: VANISHED.webhookId,
          source: 'aircall',
          synced_at: 1_700_000_000_000,
          missing_passes: 2,
        },
      }),
    );
    await registerToken(stack.dynamo, stack.tables.webhooks, HAND_REGISTERED_TOKEN, ACME.account);
    await registerToken(stack.dynamo, stack.tables.webhooks, HAND_REGISTERED_WITH_ID.token, ACME.account, {
      webhookId: HAND_REGISTERED_WITH_ID.webhookId,
    });

    const handler = createGuardianHandler({
      ...guardianDependencies({
        webhooksTable: stack.tables.webhooks,
        secretId: SECRET_ID,
        webhookUrls: [STACK_URL, CUSTOM_URL],
        aircallApiUrl: simulator.apiUrl,
        dynamodb: stack.targets.dynamo,
        secretsManager: { ...stack.targets.dynamo, endpoint: secrets.url },
      }),
      metrics: new Metrics(GUARDIAN_METRICS.options),
      // DEBUG, so that every line the handler can write is written and checked for secrets.
      logger: testLogger('guardian', 'DEBUG'),
    });
    pass = await captureOutput(() => handler({}, lambdaContext('guardian')));
  });

  afterAll(async () => {
    await stack?.stop();
    await secrets?.stop();
    await simulator?.stop();
  });

  it('reads the credentials through one GetSecretValue call for the configured secret id', () => {
    expect(secrets.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: SECRET_ID }]);
  });

  it('re-enables the deactivated webhook pointing at the stack with its events unchanged', () => {
    const after = current(simulator.company(ACME.account), ours.webhookId);

    expect(after?.active).toBe(true);
    expect(sorted(after?.events ?? [])).toEqual(sorted(SUBSCRIBED));
    expect(report(ACME.account)?.listed).toBe(true);
    expect(report(ACME.account)?.webhooks).toContainEqual(
      expect.objectContaining({ webhookId: ours.webhookId, action: 'reenabled' }),
    );
  });

  it('keeps the webhook on the custom domain URL registered as well', async () => {
    expect(report(ACME.account)?.webhooks).toContainEqual(
      expect.objectContaining({ webhookId: custom.webhookId, action: 'active' }),
    );
    expect(await registered(custom.token)).toMatchObject({
      webhook_id: custom.webhookId,
      source: 'aircall',
      missing_passes: 0,
    });
  });

  it('registers the re-enabled webhook under the SHA-256 of its token, with the outcome of the re-enable', async () => {
    const row = await registered(ours.token);

    expect(row).toMatchObject({
      token_hash: hashToken(ours.token),
      account: ACME.account,
      webhook_id: ours.webhookId,
      url: STACK_URL,
      active: true,
      last_reenable_ok: true,
      reenable_attempts: 1,
    });
    expect(sorted((row?.events as string[] | undefined) ?? [])).toEqual(sorted(SUBSCRIBED));
    expect(JSON.stringify(row)).not.toContain(ours.token);
  });

  it('reports the account whose credentials are wrong as not listed, changes nothing there, and still resolves', async () => {
    expect(pass.result.map((r) => r.account).sort()).toEqual([ACME.account, GLOBEX.account]);
    expect(report(GLOBEX.account)).toMatchObject({ listed: false, webhooks: [], removed: [] });
    expect(report(GLOBEX.account)?.error).toMatch(/^AircallAuthError: .*globex.*\(401\)/);
    expect(current(simulator.company(GLOBEX.account), globexOurs.webhookId)?.active).toBe(false);
    expect(await registered(globexOurs.token)).toBeUndefined();
  });

  it('leaves a webhook pointing at another URL inactive, unchanged and unregistered', async () => {
    const after = current(simulator.company(ACME.account), elsewhere.webhookId);

    expect(after).toMatchObject({ active: false, url: ELSEWHERE_URL, events: ['call.ended'] });
    expect(report(ACME.account)?.webhooks.map((w) => w.webhookId)).not.toContain(elsewhere.webhookId);
    expect(await registered(elsewhere.token)).toBeUndefined();
  });

  it('removes the row of a webhook missing from its third complete listing, and keeps the rows registered by hand', async () => {
    expect(report(ACME.account)?.removed).toEqual([VANISHED.webhookId]);
    expect(await registered(VANISHED.token)).toBeUndefined();
    expect(await registered(HAND_REGISTERED_TOKEN)).toMatchObject({ account: ACME.account, source: 'local' });
    expect(await registered(HAND_REGISTERED_WITH_ID.token)).toEqual({
      token_hash: hashToken(HAND_REGISTERED_WITH_ID.token),
      account: ACME.account,
      source: 'local',
      webhook_id: HAND_REGISTERED_WITH_ID.webhookId,
    });
  });

  it('prints one EMF line for the run: one webhook re-enabled, none failed, one account unreachable, none without rows', () => {
    const [run, ...others] = emfLines(pass.output);

    expect(others.every((line) => GUARDIAN_METRICS.accountDimension in line)).toBe(true);
    expect(run).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: GUARDIAN_METRICS.options.namespace,
            Dimensions: [Object.keys(GUARDIAN_METRICS.dimensions)],
          },
        ],
      },
      ...GUARDIAN_METRICS.dimensions,
      [GUARDIAN_METRICS.names.webhooksReenabled]: 1,
      [GUARDIAN_METRICS.names.webhookReenableFailures]: 0,
      [GUARDIAN_METRICS.names.accountsUnreachable]: 1,
      [GUARDIAN_METRICS.names.accountsWithoutWebhooks]: 0,
    });
  });

  it('prints the rows each listed account keeps, under the service and account dimensions', () => {
    const perAccount = emfLines(pass.output).filter((line) => GUARDIAN_METRICS.accountDimension in line);

    // acme keeps its two webhooks here and the two rows registered by hand; globex could not be listed.
    expect(perAccount).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            expect.objectContaining({
              Namespace: GUARDIAN_METRICS.options.namespace,
              Dimensions: [['service', GUARDIAN_METRICS.accountDimension]],
              Metrics: [{ Name: GUARDIAN_METRICS.names.registeredWebhooks, Unit: 'Count' }],
            }),
          ],
        }),
        ...GUARDIAN_METRICS.dimensions,
        [GUARDIAN_METRICS.accountDimension]: ACME.account,
        [GUARDIAN_METRICS.names.registeredWebhooks]: 4,
      }),
    ]);
  });

  it('logs the pass of each account, and prints no API token, access token or webhook token', () => {
    const basic = (apiId: string, apiToken: string) => Buffer.from(`${apiId}:${apiToken}`).toString('base64');
    const secretsInPlay: Readonly<Record<string, string>> = {
      "acme's access token": ACME.accessToken,
      "acme's API token": ACME.apiToken,
      "globex's API token": GLOBEX.apiToken,
      "the secret's wrong API token for globex": GLOBEX_WRONG_TOKEN,
      "the wrong credentials' Basic header": basic(GLOBEX.apiId, GLOBEX_WRONG_TOKEN),
      "the re-enabled webhook's token": ours.token,
      "the other URL's webhook token": elsewhere.token,
      "globex's webhook token": globexOurs.token,
      "the vanished webhook's token": VANISHED.token,
    };

    expect(pass.output.match(/"message":"guardian pass"/g)).toHaveLength(2);
    for (const [what, secret] of Object.entries(secretsInPlay))
      expect(pass.output, what).not.toContain(secret);
  });
});

describe('guardian handler over consecutive passes', () => {
  const WATCHED = { account: 'watched', apiId: 'watched-id', apiToken: 'watched-api-token' } as const;
  const EMPTIED = { account: 'emptied', apiId: 'emptied-id', apiToken: 'emptied-api-token' } as const;
  /** Configured, but no webhook of it was ever registered: every delivery it sent would be refused. */
  const BARE = { account: 'bare', apiId: 'bare-id', apiToken: 'bare-api-token' } as const;
  let simulator: Simulator;
  let secrets: FakeSecretsManager;
  let stack: TestStack;
  let handler: ReturnType<typeof createGuardianHandler>;

  const row = (token: string) =>
    getItem(stack.documents, stack.tables.webhooks, { token_hash: hashToken(token) });
  let lastOutput = '';
  const pass = async (): Promise<AccountReport[]> => {
    const captured = await captureOutput(() => handler({}, lambdaContext('guardian')));
    lastOutput = captured.output;
    return captured.result;
  };

  beforeAll(async () => {
    simulator = await startSimulator({ companies: [WATCHED, EMPTIED, BARE], allowRemoteDelivery: true });
    secrets = await startFakeSecretsManager({
      [SECRET_ID]: JSON.stringify(
        [WATCHED, EMPTIED, BARE].map((c) => ({ account: c.account, api_id: c.apiId, api_token: c.apiToken })),
      ),
    });
    stack = await startStack();
    handler = createGuardianHandler({
      ...guardianDependencies({
        webhooksTable: stack.tables.webhooks,
        secretId: SECRET_ID,
        webhookUrls: [STACK_URL],
        aircallApiUrl: simulator.apiUrl,
        dynamodb: stack.targets.dynamo,
        secretsManager: { ...stack.targets.dynamo, endpoint: secrets.url },
      }),
      metrics: new Metrics(GUARDIAN_METRICS.options),
      logger: testLogger('guardian', 'WARN'),
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await secrets?.stop();
    await simulator?.stop();
  });

  it("removes a deleted webhook's row on the third pass only, and never one Aircall listed nothing for", async () => {
    const watched = simulator.company(WATCHED.account);
    const emptied = simulator.company(EMPTIED.account);
    const doomed = watched.createWebhook({ url: STACK_URL, customName: 'doomed' });
    watched.createWebhook({ url: STACK_URL, customName: 'stays' });
    const lone = emptied.createWebhook({ url: STACK_URL, customName: 'lone' });
    await pass();
    expect(await row(doomed.token)).toMatchObject({ missing_passes: 0 });
    expect(await row(lone.token)).toMatchObject({ missing_passes: 0 });

    // Both deleted at Aircall: emptied now lists no webhook at all, which proves no absence.
    for (const [company, webhook] of [
      [watched, doomed],
      [emptied, lone],
    ] as const) {
      const response = await fetch(`${simulator.apiUrl}/webhooks/${webhook.webhookId}`, {
        method: 'DELETE',
        headers: { authorization: company.authorization },
      });
      expect(response.status).toBe(204);
    }

    const counts: unknown[] = [];
    for (let i = 0; i < 2; i += 1) {
      const reports = await pass();
      counts.push((await row(doomed.token))?.missing_passes);
      expect(reports.find((r) => r.account === EMPTIED.account)?.incomplete).toMatch(/listed no webhook/);
    }
    expect(counts).toEqual([1, 2]);

    const third = await pass();
    expect(third.find((r) => r.account === WATCHED.account)).toMatchObject({
      removed: [doomed.webhookId],
      registered: 1,
    });
    expect(await row(doomed.token)).toBeUndefined();
    expect(await row(lone.token)).toMatchObject({ missing_passes: 0, webhook_id: lone.webhookId });
  });

  it('counts the account left without a row, and says how many rows each account keeps', async () => {
    await pass();
    const lines = emfLines(lastOutput);
    const perAccount = Object.fromEntries(
      lines
        .filter((line) => GUARDIAN_METRICS.accountDimension in line)
        .map((line) => [
          line[GUARDIAN_METRICS.accountDimension],
          line[GUARDIAN_METRICS.names.registeredWebhooks],
        ]),
    );

    expect(perAccount).toEqual({ [WATCHED.account]: 1, [EMPTIED.account]: 1, [BARE.account]: 0 });
    expect(lines[0]).toMatchObject({ [GUARDIAN_METRICS.names.accountsWithoutWebhooks]: 1 });
    expect(lastOutput).toMatch(/"level":"ERROR","message":"guardian pass".*"account":"bare"/);
  });
});
