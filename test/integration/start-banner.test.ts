// What `npm start` prints about its secrets: the dev token it made for DATA_DIR, and with the simulator the
// simulated company's credentials made for this start.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_TOKEN_FILE } from '../../local/dev-token.js';
import { basic } from '../simulator/support.js';
import { waitFor } from '../support/local.js';
import { type StackProcess, spawnLocalStack } from '../support/stack-process.js';

describe('npm start banner', () => {
  let stack: StackProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    if (stack !== undefined && stack.child.exitCode === null && stack.child.signalCode === null) {
      stack.child.kill('SIGTERM');
      await stack.exited;
    }
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("shows the dev token kept in DATA_DIR and the simulator's credentials for this start, which open it", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-banner-'));
    stack = await spawnLocalStack(dataDir, { SIMULATOR: '1', SIMULATOR_PORT: '0', SIMULATOR_RATE: '0' });
    const running = stack;
    const banner = await waitFor(
      () => (running.output().includes('Ctrl-C stops it') ? running.output() : undefined),
      20_000,
    );

    const token = (await readFile(join(dataDir, DEV_TOKEN_FILE), 'utf8')).trim();
    expect(banner).toContain(
      `Dev token    ${token}  (account "local", kept in ${join(dataDir, DEV_TOKEN_FILE)})`,
    );
    expect(running.record.token).toBe(token);
    const credentials = /account simulated {2}api_id (\S+) {2}api_token (\S+)/.exec(banner);
    if (credentials === null) throw new Error(`no simulator credentials in:\n${banner}`);
    const [, apiId = '', apiToken = ''] = credentials;
    expect(apiToken).toMatch(/^[0-9a-f]{32}$/);
    expect(banner).not.toContain('simulated-token');
    const ping = await fetch(`${running.record.simulatorApiUrl}/ping`, {
      headers: { authorization: basic(apiId, apiToken) },
    });
    expect(ping.status).toBe(200);
  });
});
