// Where `send` takes the webhook token from, and that it never prints it or another secret.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { resolveTarget } from '../../cli/target.js';
import { recordingIo } from './io.js';
import { emptyDataDir } from './net.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/aircall/captured-user.created.json', import.meta.url));

describe('send: the token', () => {
  let server: Server;
  let url: string;
  let tokens: unknown[];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        tokens.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown }).token);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"ok"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/aircall/webhook`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    tokens = [];
  });

  it('sends nothing and says to start the stack when no local stack ever made a dev token in DATA_DIR', async () => {
    const dataDir = await emptyDataDir();
    const io = recordingIo({ resolveTarget: resolveTarget({ DATA_DIR: dataDir }) });

    const code = await run(['send', FIXTURE, '--url', url], io);

    expect(code).toBe(1);
    expect(tokens).toEqual([]);
    expect(io.err()).toContain('No dev token known for the local stack at http://127.0.0.1:8000');
    expect(io.err()).toContain(
      'start it with `npm start`, which makes one, or give a token (AIRCALL_WEBHOOK_TOKEN or --token)',
    );
  });

  it('takes the token from AIRCALL_WEBHOOK_TOKEN, looks no stack up, and prints it nowhere', async () => {
    const io = recordingIo({ env: { AIRCALL_WEBHOOK_TOKEN: 'token-from-the-environment' } });

    const code = await run(['send', FIXTURE, '--url', url], io);

    expect(code).toBe(0);
    expect(tokens).toEqual(['token-from-the-environment']);
    expect(io.resolutions()).toBe(0);
    expect(`${io.out()}${io.err()}`).not.toContain('token-from-the-environment');
  });

  it('reads the token from standard input with --token -, over the variable', async () => {
    const io = recordingIo({ stdin: 'token-from-stdin\n', env: { AIRCALL_WEBHOOK_TOKEN: 'not-this-one' } });

    const code = await run(['send', FIXTURE, '--url', url, '--token', '-'], io);

    expect(code).toBe(0);
    expect(tokens).toEqual(['token-from-stdin']);
    expect(`${io.out()}${io.err()}`).not.toContain('token-from-stdin');
  });

  it.each([
    ['nothing on standard input', ''],
    ['two words on standard input', 'one two\n'],
  ])('refuses --token - with %s, and sends nothing', async (_case, stdin) => {
    const io = recordingIo({ stdin });

    expect(await run(['send', FIXTURE, '--url', url, '--token', '-'], io)).toBe(2);
    expect(tokens).toEqual([]);
  });

  it('refuses --token - where the run has no standard input', async () => {
    const io = recordingIo();

    expect(await run(['send', FIXTURE, '--url', url, '--token', '-'], io)).toBe(2);
    expect(io.err()).toContain('--token - reads standard input, and there is none');
  });

  it('lets --token win over the variable', async () => {
    const io = recordingIo({ env: { AIRCALL_WEBHOOK_TOKEN: 'not-this-one' } });

    expect(await run(['send', FIXTURE, '--url', url, '--token', 'flag-token'], io)).toBe(0);
    expect(tokens).toEqual(['flag-token']);
  });

  it('prints a failing URL without its user-info or query, even where fetch quotes it whole', async () => {
    const secretUrl = `http://sender:hunter2-password@127.0.0.1:${new URL(url).port}/aircall/webhook?key=query-secret`;
    const io = recordingIo({ env: { AIRCALL_WEBHOOK_TOKEN: 'token-from-the-environment' } });

    const code = await run(['send', FIXTURE, '--url', secretUrl, '--json'], io);
    const plain = recordingIo({ env: { AIRCALL_WEBHOOK_TOKEN: 'token-from-the-environment' } });
    await run(['send', FIXTURE, '--url', secretUrl], plain);

    expect(code).toBe(1);
    const printed = `${io.out()}${io.err()}${plain.out()}${plain.err()}`;
    expect(printed).toContain(`http://127.0.0.1:${new URL(url).port}/aircall/webhook`);
    for (const secret of ['hunter2-password', 'sender:', 'query-secret', 'token-from-the-environment'])
      expect(printed).not.toContain(secret);
  });
});
