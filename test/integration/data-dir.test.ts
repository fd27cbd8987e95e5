// One DATA_DIR, one stack: a second start on a directory a live stack has recorded is refused before it opens it.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_FILE, writeStackRecord } from '../../local/discovery.js';
import { readLocalSettings } from '../../local/settings.js';
import { startLocalStack } from '../../local/stack.js';
import { stackRecord } from '../cli/net.js';

describe('a DATA_DIR in use', () => {
  let dataDir: string | undefined;

  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start a second stack on it, naming the pid that holds it, and opens nothing', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-data-dir-'));
    // The parent process is alive and is not this one: a record as another running stack would leave it.
    const holder = process.ppid;
    const record = stackRecord({
      dynamodb: 'http://127.0.0.1:1',
      tables: readLocalSettings({}).tables,
      pid: holder,
    });
    await writeStackRecord(dataDir, record);
    const settings = readLocalSettings({ DATA_DIR: dataDir, PORT: '0', DYNAMODB_PORT: '0', SQS_PORT: '0' });

    await expect(startLocalStack({ settings })).rejects.toThrow(
      `DATA_DIR ${dataDir} is in use by the local stack of pid ${holder}`,
    );
    expect(await readdir(dataDir)).toEqual([STACK_FILE]);
  });
});
