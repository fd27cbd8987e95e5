// DATA_DIR is its owner's alone: 0700, and every file the stack and its emulators write there 0600, as stat shows
// after a start of `npm start` that stored something, and again after it stopped.

import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { localClientTarget } from '../../local/clients.js';
import { freePort } from '../../local/free-port.js';
import { readLocalSettings } from '../../local/settings.js';
import { startLocalStack } from '../../local/stack.js';
import { sampleBody } from '../support/fixtures.js';
import { post, waitFor } from '../support/local.js';
import { type StackProcess, spawnLocalStack } from '../support/stack-process.js';
import { getItem } from '../support/tables.js';

/** Every entry under `root`, with its permission bits, e.g. `{ 'sqs/fauxqs.db': 0o600 }`. */
const modesUnder = async (root: string): Promise<Record<string, number>> => {
  const modes: Record<string, number> = {};
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path);
    modes[relative(root, path) || '.'] = info.mode & 0o777;
    if (info.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return modes;
};

const octal = (modes: Record<string, number>): Record<string, string> =>
  Object.fromEntries(Object.entries(modes).map(([path, mode]) => [path, mode.toString(8)]));

/** What a private DATA_DIR looks like: each directory 0700, each file 0600. */
const expectPrivate = async (root: string): Promise<Record<string, number>> => {
  const modes = await modesUnder(root);
  const directories = new Set<string>();
  for (const path of Object.keys(modes))
    if ((await lstat(join(root, path))).isDirectory()) directories.add(path);
  const expected = Object.fromEntries(
    Object.keys(modes).map((path) => [path, directories.has(path) ? 0o700 : 0o600]),
  );
  expect(octal(modes)).toEqual(octal(expected));
  return modes;
};

describe('DATA_DIR file modes', () => {
  const cleanup: string[] = [];
  let stack: StackProcess | undefined;

  afterAll(async () => {
    if (stack !== undefined && stack.child.exitCode === null && stack.child.signalCode === null) {
      stack.child.kill('SIGKILL');
      await stack.exited;
    }
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('makes the directory 0700 and every file 0600 under npm start, while it runs and after it stops', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'aircall-modes-'));
    cleanup.push(parent);
    const dataDir = join(parent, 'data');
    stack = await spawnLocalStack(dataDir);
    const running = stack;
    expect(
      await post(
        running.record.endpoints.webhookUrl,
        JSON.stringify({ ...JSON.parse(sampleBody('captured-user.created')), token: running.record.token }),
      ),
    ).toBe(200);
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient(localClientTarget(running.record.endpoints.dynamodb)),
    );
    try {
      await waitFor(() => getItem(documents, running.record.tables.users, { id: 749132 }), 15_000);
    } finally {
      documents.destroy();
    }

    const whileRunning = await expectPrivate(dataDir);
    expect(Object.keys(whileRunning)).toEqual(
      expect.arrayContaining([
        '.',
        'dev-token',
        'local-stack.json',
        'dynamodb',
        'dynamodb/CURRENT',
        'sqs',
        'sqs/fauxqs.db',
        'sqs/fauxqs.db-wal',
      ]),
    );
    expect(Object.keys(whileRunning).some((path) => /^dynamodb\/\d+\.log$/.test(path))).toBe(true);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    await expectPrivate(dataDir);
  });

  it('tightens what an earlier run left open at start, and leaves alone what is not the stack’s', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'aircall-modes-'));
    cleanup.push(dataDir);
    await chmod(dataDir, 0o755);
    await mkdir(join(dataDir, 'dynamodb'), { mode: 0o755 });
    await writeFile(join(dataDir, 'dynamodb', 'LOG.old'), 'left by an earlier run\n', { mode: 0o644 });
    await mkdir(join(dataDir, 'sqs'), { mode: 0o755 });
    await writeFile(join(dataDir, 'notes.txt'), 'the developer’s own file\n', { mode: 0o644 });
    await chmod(join(dataDir, 'dynamodb', 'LOG.old'), 0o644);
    await chmod(join(dataDir, 'notes.txt'), 0o644);
    const settings = readLocalSettings({
      PORT: String(await freePort()),
      DYNAMODB_PORT: String(await freePort()),
      SQS_PORT: String(await freePort()),
      DATA_DIR: dataDir,
    });

    const local = await startLocalStack({ settings });
    try {
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'dynamodb'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'dynamodb', 'LOG.old'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dataDir, 'sqs'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'dev-token'))).mode & 0o777).toBe(0o600);
      // SQLite gives its journal the database file's mode, whatever the umask of the process.
      for (const file of ['fauxqs.db', 'fauxqs.db-wal', 'fauxqs.db-shm'])
        expect({ file, mode: (await stat(join(dataDir, 'sqs', file))).mode & 0o777 }).toEqual({
          file,
          mode: 0o600,
        });
      expect((await stat(join(dataDir, 'notes.txt'))).mode & 0o777).toBe(0o644);
    } finally {
      await local.stop();
    }
  });
});
