// The archive use case against in-memory fakes: idempotence, link refresh, permanent and retriable failures.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type ArchiveDeps, archiveMedia, linkForLog } from '../../lambdas/archive/archive.js';
import {
  MediaForbiddenError,
  MediaLinkExpiredError,
  MediaNotFoundError,
  MediaTooLargeError,
  MediaUnavailableError,
} from '../../lambdas/archive/errors.js';
import {
  type CallArchiveStore,
  type CallLookup,
  type ClaimOutcome,
  type Lease,
  type MediaArchive,
  type MediaDownload,
  type MediaFileRef,
  type ObjectUpload,
  type RecordOutcome,
  type Scratch,
  type ScratchFile,
  UnarchivableMediaError,
} from '../../lambdas/archive/ports.js';
import type { MediaJob } from '../../lib/definitions/media.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const amz = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
/** A presigned-style link signed at `signedAt` for `expires` seconds. */
const link = (path: string, signedAt = NOW - 60_000, expires = 3600): string =>
  `https://media.example${path}?X-Amz-Date=${amz(signedAt)}&X-Amz-Expires=${expires}&X-Amz-Signature=secret`;

const JOB: MediaJob = { account: 'acme', callId: '1234567890123', kind: 'recording', url: link('/r.mp3') };
const FRESH = link('/r.mp3', NOW);
const BYTES = Buffer.from('ID3 and then some audio bytes, in three chunks');
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface MemoryCall {
  account: string;
  archives: Record<string, MediaArchive>;
  /** Lease end by kind, UNIX seconds. */
  leases: Record<string, { until: number; holder: string }>;
}

/** The calls table as one map: each item's account, archives and leases. */
class MemoryCalls implements CallArchiveStore {
  readonly items = new Map<string, MemoryCall>();
  readonly writes: MediaArchive[] = [];
  readonly leases: Lease[] = [];
  /** What `record` answers regardless, to act out a race. */
  recordAnswer: RecordOutcome | undefined;

  async claim(file: MediaFileRef, lease: Lease): Promise<ClaimOutcome> {
    const item = this.items.get(file.callId);
    if (item === undefined) return 'missing';
    if (item.account !== file.account) return 'foreign';
    if (item.archives[file.kind] !== undefined) return 'archived';
    const held = item.leases[file.kind];
    if (held !== undefined && held.until >= lease.nowSeconds && held.holder !== lease.holder) return 'busy';
    item.leases[file.kind] = { until: lease.untilSeconds, holder: lease.holder };
    this.leases.push(lease);
    return 'claimed';
  }

  async release(file: MediaFileRef, lease: Lease): Promise<void> {
    const item = this.items.get(file.callId);
    if (item?.leases[file.kind]?.holder === lease.holder) delete item.leases[file.kind];
  }

  async record(file: MediaFileRef, archive: MediaArchive): Promise<RecordOutcome> {
    if (this.recordAnswer !== undefined) return this.recordAnswer;
    const item = this.items.get(file.callId);
    if (item === undefined) return 'missing';
    if (item.account !== file.account) return 'foreign';
    if (item.archives[file.kind] !== undefined) return 'already-archived';
    item.archives[file.kind] = archive;
    delete item.leases[file.kind];
    this.writes.push(archive);
    return 'recorded';
  }
}

/** Scratch files in memory: what was written, and which files are still there. */
class MemoryScratch implements Scratch {
  readonly files = new Set<Buffer[]>();
  written = 0;

  async write(body: Readable): Promise<ScratchFile> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    this.files.add(chunks);
    this.written += 1;
    return {
      open: () => Readable.from(chunks),
      remove: async () => {
        this.files.delete(chunks);
      },
    };
  }
}

/** A media host: each link answers a body or an error; every download is counted. */
const mediaHost = (answers: Record<string, () => MediaDownload>) => {
  const downloads: string[] = [];
  return {
    downloads,
    source: {
      download: async (url: string): Promise<MediaDownload> => {
        downloads.push(url);
        const answer = answers[url];
        if (answer === undefined) throw new MediaNotFoundError('404 from media.example');
        return answer();
      },
    },
  };
};

const audio = (bytes: Buffer = BYTES): (() => MediaDownload) => {
  return () => ({
    body: Readable.from([bytes.subarray(0, 10), bytes.subarray(10, 20), bytes.subarray(20)]),
    contentType: 'audio/mpeg',
  });
};

/** The bucket: reads every body to its end, as S3 would. */
class MemoryObjects {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string; sha256: string }>();
  failWith: Error | undefined;

  async put(upload: ObjectUpload): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of upload.body) chunks.push(chunk as Buffer);
    if (this.failWith !== undefined) throw this.failWith;
    const bytes = Buffer.concat(chunks);
    if (bytes.length !== upload.bytes) throw new Error(`told ${upload.bytes} bytes, sent ${bytes.length}`);
    this.objects.set(upload.key, { bytes, contentType: upload.contentType, sha256: upload.sha256 });
  }
}

const aircallAnswering = (lookup: CallLookup) => {
  const asked: string[] = [];
  return {
    asked,
    api: {
      getCall: async (account: string, callId: string): Promise<CallLookup> => {
        asked.push(`${account}/${callId}`);
        return lookup;
      },
    },
  };
};

interface Setup {
  readonly answers?: Record<string, () => MediaDownload>;
  readonly lookup?: CallLookup;
  /** null: no call item at all. */
  readonly owner?: string | null;
  readonly maxBytes?: number;
}

const setup = ({
  answers = { [JOB.url]: audio() },
  lookup = { status: 'found', call: { recording: FRESH, voicemail: null } },
  owner = 'acme',
  maxBytes = 1_000_000,
}: Setup = {}) => {
  const calls = new MemoryCalls();
  if (owner !== null) calls.items.set(JOB.callId, { account: owner, archives: {}, leases: {} });
  const host = mediaHost(answers);
  const objects = new MemoryObjects();
  const scratch = new MemoryScratch();
  const aircall = aircallAnswering(lookup);
  const clock = { now: NOW };
  const deps: ArchiveDeps = {
    calls,
    media: host.source,
    objects,
    scratch,
    aircall: aircall.api,
    leaseSeconds: LEASE_SECONDS,
    maxBytes,
    now: () => clock.now,
  };
  return { deps, calls, host, objects, scratch, aircall, clock };
};

const LEASE_SECONDS = 360;

const unarchivable = async (promise: Promise<unknown>): Promise<UnarchivableMediaError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnarchivableMediaError);
  return error as UnarchivableMediaError;
};

describe('archiveMedia', () => {
  it('streams the file into the bucket under its key and records its size, type and SHA-256 on the call', async () => {
    const { deps, calls, objects, aircall } = setup();
    const outcome = await archiveMedia(JOB, deps);

    const key = 'acme/calls/1234567890123/recording.mp3';
    const archive = {
      key,
      bytes: BYTES.length,
      content_type: 'audio/mpeg',
      sha256: sha256(BYTES),
      archived_at: NOW / 1000,
    };
    expect(outcome).toEqual({ status: 'archived', archive, refreshed: false });
    expect(objects.objects.get(key)).toEqual({
      bytes: BYTES,
      contentType: 'audio/mpeg',
      sha256: sha256(BYTES),
    });
    expect(calls.writes).toEqual([archive]);
    expect(aircall.asked).toEqual([]);
  });

  it('removes the scratch file once the file is stored, and when the upload fails', async () => {
    const { deps, scratch } = setup();
    await archiveMedia(JOB, deps);
    expect(scratch.written).toBe(1);
    expect(scratch.files.size).toBe(0);

    const failing = setup();
    failing.objects.failWith = new Error('the bucket is away');
    await expect(archiveMedia(JOB, failing.deps)).rejects.toThrow('the bucket is away');
    expect(failing.scratch.written).toBe(1);
    expect(failing.scratch.files.size).toBe(0);
  });

  it('takes a lease on the file for the lease time, and the record drops it', async () => {
    const { deps, calls } = setup();
    await archiveMedia(JOB, deps);
    expect(calls.leases).toEqual([
      { nowSeconds: NOW / 1000, untilSeconds: NOW / 1000 + LEASE_SECONDS, holder: expect.any(String) },
    ]);
    expect(calls.items.get(JOB.callId)?.leases).toEqual({});
  });

  it('downloads nothing while another job of the same file holds its lease', async () => {
    const { deps, calls, host } = setup();
    const item = calls.items.get(JOB.callId);
    if (item === undefined) throw new Error('no call');
    item.leases.recording = { until: NOW / 1000 + 10, holder: 'another job' };
    expect(await archiveMedia(JOB, deps)).toEqual({ status: 'in-progress' });
    expect(host.downloads).toEqual([]);
  });

  it('drops its lease when the attempt fails, so that its retry may start at once', async () => {
    const { deps, calls, objects } = setup();
    objects.failWith = new Error('the bucket is away');
    await expect(archiveMedia(JOB, deps)).rejects.toThrow('the bucket is away');
    expect(calls.items.get(JOB.callId)?.leases).toEqual({});

    objects.failWith = undefined;
    expect(await archiveMedia(JOB, deps)).toMatchObject({ status: 'archived' });
  });

  it('takes back its own lease when it is redelivered: the attempt that took it died', async () => {
    const { deps, calls, host } = setup();
    const item = calls.items.get(JOB.callId);
    if (item === undefined) throw new Error('no call');
    item.leases.recording = { until: NOW / 1000 + 300, holder: 'message-1' };
    expect(await archiveMedia(JOB, deps, 'message-1')).toMatchObject({ status: 'archived' });
    expect(host.downloads).toEqual([JOB.url]);
  });

  it('takes over a lease that has run out: the job that held it died', async () => {
    const { deps, calls, host } = setup();
    const item = calls.items.get(JOB.callId);
    if (item === undefined) throw new Error('no call');
    item.leases.recording = { until: NOW / 1000 - 1, holder: 'another job' };
    expect(await archiveMedia(JOB, deps)).toMatchObject({ status: 'archived' });
    expect(host.downloads).toEqual([JOB.url]);
  });

  it('downloads nothing and writes nothing when the call already records the archive', async () => {
    const { deps, calls, host, objects } = setup();
    await archiveMedia(JOB, deps);
    const again = await archiveMedia({ ...JOB, url: link('/r.mp3', NOW - 1000) }, deps);

    expect(again).toEqual({ status: 'already-archived', downloaded: false });
    expect(host.downloads).toHaveLength(1);
    expect(calls.writes).toHaveLength(1);
    expect(objects.objects.size).toBe(1);
  });

  it('asks Aircall for a fresh link, without trying the old one, when the job link has expired by the clock', async () => {
    const expired = { ...JOB, url: link('/r.mp3', NOW - 3_600_000, 600) };
    const { deps, host, aircall } = setup({ answers: { [FRESH]: audio() } });
    const outcome = await archiveMedia(expired, deps);

    expect(outcome).toMatchObject({ status: 'archived', refreshed: true });
    expect(aircall.asked).toEqual(['acme/1234567890123']);
    expect(host.downloads).toEqual([FRESH]);
  });

  it('retries once with a fresh link when the download answers that the link has expired', async () => {
    const { deps, host } = setup({
      answers: {
        [JOB.url]: () => {
          throw new MediaLinkExpiredError('403 from media.example: the link has expired');
        },
        [FRESH]: audio(),
      },
    });
    expect(await archiveMedia(JOB, deps)).toMatchObject({ status: 'archived', refreshed: true });
    expect(host.downloads).toEqual([JOB.url, FRESH]);
  });

  it('fails for good when the fresh link is refused as well, after one retry', async () => {
    const forbidden = () => {
      throw new MediaForbiddenError('403 from media.example');
    };
    const { deps, host, calls } = setup({ answers: { [JOB.url]: forbidden, [FRESH]: forbidden } });
    const error = await unarchivable(archiveMedia(JOB, deps));

    expect(error.message).toContain('403 from media.example');
    expect(host.downloads).toEqual([JOB.url, FRESH]);
    expect(calls.writes).toEqual([]);
  });

  it('fails for good, saying so, when the link has expired and the account has no credentials', async () => {
    const expired = { ...JOB, url: link('/r.mp3', NOW - 3_600_000, 600) };
    const { deps, host, calls } = setup({ lookup: { status: 'no-credentials' } });
    const error = await unarchivable(archiveMedia(expired, deps));

    expect(error.message).toBe(
      'the link to the recording of call 1234567890123 has expired, and no Aircall credentials are configured for account acme to refresh it',
    );
    expect(host.downloads).toEqual([]);
    expect(calls.writes).toEqual([]);
  });

  it.each([
    [
      { status: 'found', call: { recording: null } } as CallLookup,
      'call 1234567890123 no longer has a recording',
    ],
    [{ status: 'not-found' } as CallLookup, 'Aircall no longer has call 1234567890123'],
    [{ status: 'refused' } as CallLookup, 'Aircall refused the credentials of account acme'],
  ])('fails for good when the refresh answers %j', async (lookup, reason) => {
    const expired = { ...JOB, url: link('/r.mp3', NOW - 3_600_000, 600) };
    const { deps, calls } = setup({ lookup });
    const error = await unarchivable(archiveMedia(expired, deps));
    expect(error.message).toContain(reason);
    expect(calls.writes).toEqual([]);
  });

  it.each([
    [null, 'call 1234567890123 is not in the calls table'],
    ['globex', 'call 1234567890123 belongs to another account than acme'],
  ])('neither downloads nor writes when the owner of the call item is %s', async (owner, reason) => {
    const { deps, host, calls, objects } = setup({ owner });
    const error = await unarchivable(archiveMedia(JOB, deps));

    expect(error.message).toBe(reason);
    expect(host.downloads).toEqual([]);
    expect(objects.objects.size).toBe(0);
    expect(calls.writes).toEqual([]);
  });

  it('fails for good when the call changes hands or goes before the write, which then changes nothing', async () => {
    for (const answer of ['foreign', 'missing'] as const) {
      const { deps, calls } = setup();
      calls.recordAnswer = answer;
      await unarchivable(archiveMedia(JOB, deps));
      expect(calls.items.get(JOB.callId)?.archives).toEqual({});
    }
  });

  it('reports the file archived by a concurrent job as already archived', async () => {
    const { deps, calls } = setup();
    calls.recordAnswer = 'already-archived';
    expect(await archiveMedia(JOB, deps)).toEqual({ status: 'already-archived', downloaded: true });
  });

  it('fails for good, recording nothing, on a body larger than the limit', async () => {
    const { deps, calls } = setup({ maxBytes: BYTES.length - 1 });
    const error = await unarchivable(archiveMedia(JOB, deps));

    expect(error.cause).toBeInstanceOf(MediaTooLargeError);
    expect(error.message).toContain(`body exceeds ${BYTES.length - 1} bytes`);
    expect(calls.writes).toEqual([]);
  });

  it('keeps no scratch file of a body cut off at the limit', async () => {
    const { deps, scratch } = setup({ maxBytes: BYTES.length - 1 });
    await unarchivable(archiveMedia(JOB, deps));
    expect(scratch.files.size).toBe(0);
  });

  it('archives a body of exactly the limit', async () => {
    const { deps } = setup({ maxBytes: BYTES.length });
    expect(await archiveMedia(JOB, deps)).toMatchObject({ status: 'archived' });
  });

  it('fails for good on a 404, a failure no retry of the same job mends', async () => {
    const { deps } = setup({ answers: {} });
    const error = await unarchivable(archiveMedia(JOB, deps));
    expect(error.cause).toBeInstanceOf(MediaNotFoundError);
  });

  it('throws a retriable failure as it is: a dead media host, or the bucket throttling', async () => {
    const unavailable = new MediaUnavailableError('status 503 from media.example', { status: 503 });
    const { deps } = setup({
      answers: {
        [JOB.url]: () => {
          throw unavailable;
        },
      },
    });
    await expect(archiveMedia(JOB, deps)).rejects.toBe(unavailable);

    const throttled = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });
    const second = setup();
    second.objects.failWith = throttled;
    await expect(archiveMedia(JOB, second.deps)).rejects.toBe(throttled);
    expect(second.calls.writes).toEqual([]);
  });
});

describe('linkForLog', () => {
  it('keeps the origin and path of a link and drops its query string, which is a credential', () => {
    expect(linkForLog(JOB.url)).toBe('https://media.example/r.mp3');
    expect(linkForLog('not a link')).toBe('(not a URL)');
  });
});
