// The local stack's development token: random per DATA_DIR unless LOCAL_WEBHOOK_TOKEN names one, kept across
// restarts, recorded for the CLI, and the only local token the registry accepts after a start.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../lambdas/shared/token.js';
import { localClientTarget } from '../../local/clients.js';
import { DEV_TOKEN_FILE } from '../../local/dev-token.js';
import { readStackRecord } from '../../local/discovery.js';
import { freePort } from '../../local/free-port.js';
import { registerToken } from '../../local/provision.js';
import { type LocalSettings, readLocalSettings } from '../../local/settings.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { sampleBody } from '../support/fixtures.js';
import { post } from '../support/local.js';

const tokened = (token: string): string =>
  JSON.stringify({ ...JSON.parse(sampleBody('captured-user.created')), token });

describe('local dev token', () => {
  const dataDirs: string[] = [];
  const running: LocalStack[] = [];

  afterEach(async () => {
    for (const stack of running.splice(0)) await stack.stop();
    for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const settingsFor = async (dataDir: string, env: Record<string, string> = {}): Promise<LocalSettings> =>
    readLocalSettings({
      PORT: String(await freePort()),
      DYNAMODB_PORT: String(await freePort()),
      SQS_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      ...env,
    });

  const newDataDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'aircall-token-'));
    dataDirs.push(dir);
    return dir;
  };

  const start = async (settings: LocalSettings): Promise<LocalStack> => {
    // ERROR: the 401s these tests provoke are what they check, not warnings to read.
    const stack = await startLocalStack({ settings, logLevel: 'ERROR' });
    running.push(stack);
    return stack;
  };

  const stop = async (stack: LocalStack): Promise<void> => {
    running.splice(running.indexOf(stack), 1);
    await stack.stop();
  };

  it('makes a random token, keeps it 0600 in DATA_DIR, records it for the CLI and accepts it', async () => {
    const dataDir = await newDataDir();
    const stack = await start(await settingsFor(dataDir));

    expect(stack.token).toMatch(/^local-[A-Za-z0-9_-]{43}$/);
    const file = join(dataDir, DEV_TOKEN_FILE);
    expect((await readFile(file, 'utf8')).trim()).toBe(stack.token);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readStackRecord(dataDir))?.token).toBe(stack.token);
    expect(await post(stack.webhookUrl, tokened(stack.token))).toBe(200);
    expect(await post(stack.webhookUrl, tokened('local-dev-token'))).toBe(401);
  });

  it('keeps the token across restarts of one DATA_DIR, and makes another for another DATA_DIR', async () => {
    const dataDir = await newDataDir();
    const settings = await settingsFor(dataDir);
    const first = await start(settings);
    const token = first.token;
    await stop(first);
    const again = await start(settings);
    const elsewhere = await start(await settingsFor(await newDataDir()));

    expect(again.token).toBe(token);
    expect(elsewhere.token).not.toBe(token);
  });

  it('uses LOCAL_WEBHOOK_TOKEN when set, and writes no token file then', async () => {
    const dataDir = await newDataDir();
    const stack = await start(await settingsFor(dataDir, { LOCAL_WEBHOOK_TOKEN: 'chosen-token' }));

    expect(stack.token).toBe('chosen-token');
    expect(await post(stack.webhookUrl, tokened('chosen-token'))).toBe(200);
    await expect(stat(join(dataDir, DEV_TOKEN_FILE))).rejects.toThrow(/ENOENT/);
  });

  it("removes earlier starts' local tokens from the registry at start, and leaves Aircall webhooks' rows", async () => {
    const dataDir = await newDataDir();
    const settings = await settingsFor(dataDir, { LOCAL_WEBHOOK_TOKEN: 'local-dev-token' });
    const old = await start(settings);
    const dynamo = new DynamoDBClient(localClientTarget(old.endpoints.dynamodb));
    await registerToken(dynamo, settings.tables.webhooks, 'another-old-local-token', 'local');
    await dynamo.send(
      new PutItemCommand({
        TableName: settings.tables.webhooks,
        Item: {
          token_hash: { S: hashToken('aircall-webhook-token') },
          account: { S: 'acme' },
          webhook_id: { S: 'w1' },
          source: { S: 'aircall' },
        },
      }),
    );
    dynamo.destroy();
    await stop(old);

    const current = await start({ ...settings, token: undefined });

    expect(current.revokedTokens).toBe(2);
    const answers = [
      await post(current.webhookUrl, tokened('local-dev-token')),
      await post(current.webhookUrl, tokened('another-old-local-token')),
      await post(current.webhookUrl, tokened('aircall-webhook-token')),
      await post(current.webhookUrl, tokened(current.token)),
    ];
    expect(answers).toEqual([401, 401, 200, 200]);
  });
});
