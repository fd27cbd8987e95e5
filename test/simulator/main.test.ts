// `npm run simulator`: the banner prints credentials made for this run, and they open its API.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/local.js';
import { basic } from './support.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Banner {
  readonly apiUrl: string;
  readonly apiId: string;
  readonly apiToken: string;
  readonly text: string;
}

describe('npm run simulator', () => {
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  const startSimulatorProcess = async (): Promise<Banner> => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'simulator/main.ts', '--port', '0', '--rate', '0'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    await waitFor(() => (text.includes('Ctrl-C to stop.') ? true : undefined), 20_000);
    const field = (label: string): string => {
      const value = new RegExp(`^  ${label}\\s+(\\S+)$`, 'm').exec(text)?.[1];
      if (value === undefined) throw new Error(`no ${label} in:\n${text}`);
      return value;
    };
    return { apiUrl: field('API base URL'), apiId: field('api_id'), apiToken: field('api_token'), text };
  };

  it('prints credentials made for this run, which open its API, and other ones at the next run', async () => {
    const first = await startSimulatorProcess();
    const second = await startSimulatorProcess();

    expect(first.apiId).toMatch(/^demo-[0-9a-f]{8}$/);
    expect(first.apiToken).toMatch(/^[0-9a-f]{32}$/);
    expect(second.apiToken).not.toBe(first.apiToken);
    expect(first.text).toContain('delivers to    this machine only');
    const ping = await fetch(`${first.apiUrl}/ping`, {
      headers: { authorization: basic(first.apiId, first.apiToken) },
    });
    expect(ping.status).toBe(200);
    const old = await fetch(`${first.apiUrl}/ping`, {
      headers: { authorization: basic('demo-id', 'demo-token') },
    });
    expect(old.status).toBe(401);
  });
});
