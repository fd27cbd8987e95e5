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
    expect(io.err()).toContain('start it with `npm start`, which makes one, or pass --token');
  });
});
