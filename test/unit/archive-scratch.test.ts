// DiskScratch on a real temporary directory: a download is kept until stored, and nothing is left behind.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskScratch } from '../../lambdas/archive/adapters.js';

const roots: string[] = [];
const directory = (): string => {
  const root = mkdtempSync(join(tmpdir(), 'scratch-test-'));
  roots.push(root);
  return join(root, 'scratch');
};

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const read = async (body: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

describe('DiskScratch', () => {
  it('keeps what it was given, readable from the start as often as asked, until removed', async () => {
    const dir = directory();
    const scratch = new DiskScratch(dir);
    const file = await scratch.write(Readable.from([Buffer.from('abc'), Buffer.from('def')]));

    expect((await read(file.open())).toString()).toBe('abcdef');
    expect((await read(file.open())).toString()).toBe('abcdef');
    await file.remove();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes files only its owner can read, in a directory only its owner can enter', async () => {
    const dir = directory();
    await new DiskScratch(dir).write(Readable.from([Buffer.from('audio')]));
    const [folder] = readdirSync(dir);
    if (folder === undefined) throw new Error('no scratch folder');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, folder, 'file')).mode & 0o777).toBe(0o600);
  });

  it('leaves no file behind when the stream breaks off', async () => {
    const dir = directory();
    const broken = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(new DiskScratch(dir).write(broken)).rejects.toThrow('connection reset');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('empties the directory when cleared: what a process that died mid-download left', () => {
    const dir = directory();
    mkdirSync(join(dir, 'media-left'), { recursive: true });
    writeFileSync(join(dir, 'media-left', 'file'), 'half a recording');
    new DiskScratch(dir).clear();
    expect(readdirSync(dir)).toEqual([]);
  });
});
