// A start that fails part way undoes what it had started: no emulator, client or server is left listening.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLocalSettings } from '../../local/settings.js';
import { startLocalStack } from '../../local/stack.js';
import { listeningSockets } from '../support/sockets.js';

describe('a local stack whose start fails', () => {
  let dataDir: string | undefined;
  let holder: Server | undefined;

  afterAll(async () => {
    await new Promise<void>((resolve) => (holder === undefined ? resolve() : holder.close(() => resolve())));
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('rejects when the webhook port is taken, and leaves nothing of its own listening', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-failed-start-'));
    const taken = createServer();
    holder = taken;
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const before = new Set((await listeningSockets()).map((socket) => socket.inode));
    const settings = readLocalSettings({
      DATA_DIR: dataDir,
      PORT: String(address.port),
      DYNAMODB_PORT: '0',
      SQS_PORT: '0',
      LOCAL_WEBHOOK_TOKEN: 'failed-start-token',
    });

    await expect(startLocalStack({ settings })).rejects.toMatchObject({ code: 'EADDRINUSE' });

    const after = (await listeningSockets()).filter((socket) => !before.has(socket.inode));
    expect(after).toEqual([]);
  });
});
