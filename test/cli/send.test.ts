// `send` against a small HTTP server of the test's own: what it posts, what it prints, and its exit code.

import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { resolveTarget } from '../../cli/target.js';
import { recordingIo } from './io.js';
import { closedPort, emptyDataDir } from './net.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/aircall/', import.meta.url));
const FIXTURE_FILES = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort();
const TOKEN = 'cli-test-token-5f0c';
const PATH = '/aircall/webhook';

interface Received {
  readonly path: string;
  readonly body: { token?: unknown; resource?: unknown; event?: unknown };
  readonly text: string;
}

describe('send', () => {
  let server: Server;
  let url: string;
  let received: Received[];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = JSON.parse(text) as Received['body'];
        received.push({ path: request.url ?? '', body, text });
        // Integration events stand for what the stack refuses, so that a run can mix answers.
        const status = body.resource === 'integration' ? 401 : 200;
        response.writeHead(status, { 'content-type': 'application/json' }).end('{"message":"ok"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    received = [];
  });

  const accepted = FIXTURE_FILES.filter((name) => !name.includes('integration')).map(
    (name) => `${FIXTURES}${name}`,
  );

  it('sends an id beyond 2^53 with the digits its file holds', async () => {
    const dir = await emptyDataDir();
    const file = join(dir, 'big-id.json');
    await writeFile(
      file,
      '{"resource":"call","event":"call.created","timestamp":1,"data":{"id":9007199254740993}}',
    );
    const io = recordingIo();

    const code = await run(['send', file, '--url', url, '--token', TOKEN], io);

    expect(code).toBe(0);
    expect(received.map((r) => r.text)).toEqual([
      `{"resource":"call","event":"call.created","timestamp":1,"data":{"id":9007199254740993},"token":"${TOKEN}"}`,
    ]);
  });

  it('posts each file in order, its token replaced, and counts the answers without printing the token', async () => {
    const io = recordingIo();

    const code = await run(['send', ...accepted, '--url', url, '--token', TOKEN], io);

    expect(code).toBe(0);
    expect(received).toHaveLength(accepted.length);
    expect(received.every((r) => r.path === PATH && r.body.token === TOKEN)).toBe(true);
    expect(received.map((r) => r.body.event)).toEqual([
      'contact.created',
      'call.ended',
      'call.created',
      'call.ended',
      'call.hungup',
      'user.connected',
      'user.created',
      'call.created',
      'number.closed',
    ]);
    expect(io.out()).toBe(`200: ${accepted.length}\n`);
    expect(io.err()).toMatch(
      new RegExp(`^Sent ${accepted.length} webhooks to ${url} in \\d+\\.\\d s\\.\\n$`),
    );
    expect(`${io.out()}${io.err()}`).not.toContain(TOKEN);
  });

  it('sends every *.json of a directory, sorted, and exits 1 when an answer is not 2xx', async () => {
    const io = recordingIo();

    const code = await run(['send', FIXTURES, '--url', url, '--token', TOKEN], io);

    expect(code).toBe(1);
    expect(received).toHaveLength(FIXTURE_FILES.length);
    expect(received[3]?.body.event).toBe('call.ended');
    expect(io.out()).toBe(`200: ${FIXTURE_FILES.length - 1}\n401: 1\n`);
    expect(io.err()).toContain('Not every webhook was accepted.');
  });

  it('repeats the set with requests in flight at once, and gives the summary as JSON', async () => {
    const io = recordingIo();

    const code = await run(
      ['send', ...accepted, '--url', url, '--token', TOKEN, '--repeat', '3', '--concurrency', '4', '--json'],
      io,
    );

    expect(code).toBe(0);
    expect(received).toHaveLength(3 * accepted.length);
    expect(JSON.parse(io.out())).toMatchObject({
      url,
      sent: 3 * accepted.length,
      statuses: { '200': 3 * accepted.length },
      errors: {},
    });
  });

  it('draws a progress bar on a terminal', async () => {
    const io = recordingIo({ tty: true });

    expect(await run(['send', ...accepted, '--url', url, '--token', TOKEN], io)).toBe(0);

    expect(io.err()).toContain(`\r[${'#'.repeat(30)}] ${accepted.length}/${accepted.length}\n`);
    expect(io.err()).not.toContain('Sent ');
  });

  it('posts to the local webhook URL with the local token when neither is given', async () => {
    const io = recordingIo({
      resolveTarget: resolveTarget({
        DATA_DIR: await emptyDataDir(),
        PORT: new URL(url).port,
        LOCAL_WEBHOOK_TOKEN: TOKEN,
      }),
    });

    const code = await run(['send', accepted[0] ?? ''], io);

    expect(code).toBe(0);
    expect(received).toEqual([
      { path: PATH, body: expect.objectContaining({ token: TOKEN }), text: expect.any(String) },
    ]);
    expect(`${io.out()}${io.err()}`).not.toContain(TOKEN);
  });

  it('says no local stack answers when the default local URL refuses the connection', async () => {
    const port = await closedPort();
    const dataDir = await emptyDataDir();
    const io = recordingIo({
      resolveTarget: resolveTarget({ DATA_DIR: dataDir, PORT: String(port), LOCAL_WEBHOOK_TOKEN: TOKEN }),
    });

    const code = await run(['send', accepted[0] ?? ''], io);

    expect(code).toBe(1);
    expect(io.err()).toContain(
      `No local stack answers at http://127.0.0.1:${port}${PATH} (found no ${join(dataDir, 'local-stack.json')} (DATA_DIR is ${dataDir}), so tried the ports PORT and DYNAMODB_PORT name, or their defaults): start it with \`npm start\`, or pass --url\n`,
    );
    expect(io.err()).not.toContain('local-dev-token');
  });

  it('counts a refused connection as an error, says so, and exits 1', async () => {
    const deadUrl = `http://127.0.0.1:${await closedPort()}${PATH}?secret=${TOKEN}`;
    const io = recordingIo();

    const code = await run(['send', ...accepted.slice(0, 2), '--url', deadUrl, '--token', TOKEN], io);

    expect(code).toBe(1);
    expect(io.out()).toBe(`error: connection refused by ${deadUrl.replace(/\?.*$/, '')}: 2\n`);
    expect(`${io.out()}${io.err()}`).not.toContain(TOKEN);
  });
});
