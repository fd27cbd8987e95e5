// Recordings and voicemails served like Aircall's presigned S3 links: signed per event, checked, streamed.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { GeneratedEvent } from '../../simulator/envelope.js';
import { isJsonObject } from '../../simulator/json.js';
import { amzDate, type MediaKind } from '../../simulator/media.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { basic, callApi } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-token' };
const AUTH = basic(ACME.apiId, ACME.apiToken);
const START_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

let simulator: Simulator | undefined;
/** The simulator's clock, which a test moves. */
let nowMs = START_MS;
const start = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  nowMs = START_MS;
  simulator = await startSimulator({ companies: [ACME, GLOBEX], now: () => nowMs, ...options });
  return simulator;
};
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** The first generated call event carrying a link of that kind. */
const withLink = (events: readonly GeneratedEvent[], kind: MediaKind, name?: string): GeneratedEvent => {
  const found = events.find(
    (e) =>
      e.resource === 'call' && typeof e.data[kind] === 'string' && (name === undefined || e.event === name),
  );
  if (found === undefined) throw new Error(`no ${kind} in the generated events`);
  return found;
};

const linkOf = (event: GeneratedEvent, kind: MediaKind): string => String(event.data[kind]);

/** Reads the body chunk by chunk, as a downloader would, hashing it. */
const download = async (link: string) => {
  const response = await fetch(link);
  const hash = createHash('sha256');
  let length = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (next === undefined || next.done) break;
    hash.update(next.value);
    length += next.value.length;
  }
  return { status: response.status, headers: response.headers, sha256: hash.digest('hex'), length };
};

describe('simulator media links', () => {
  it('serves a recording link with the bytes, length and type that mediaBytes reports, and counts the GET', async () => {
    const sim = await start({ mediaLinkExpirySeconds: 3600 });
    const event = withLink(sim.generate(20, 'acme'), 'recording');
    const link = linkOf(event, 'recording');
    const callId = Number(event.data.id);
    expect(
      link.startsWith(`${sim.url}/media/acme/${callId}/recording.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256`),
    ).toBe(true);
    expect(link).toMatch(
      /X-Amz-Credential=SIMULATOREXAMPLE%2F\d{8}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=sim-[0-9a-f]{64}$/,
    );

    const served = await download(link);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('audio/mpeg');
    expect(served.headers.get('content-length')).toBe('49152');
    expect(sim.mediaBytes('acme', callId, 'recording')).toEqual({ sha256: served.sha256, length: 49_152 });
    expect(sim.mediaDownloads('acme', callId, 'recording')).toMatchObject({ downloads: 1, refused: 0 });
  });

  it('serves bytes that open like an MP3 file and are the same for the same seed', async () => {
    const first = await start({ mediaLinkExpirySeconds: 3600, mediaSizeBytes: 2000 });
    const event = withLink(first.generate(20, 'acme'), 'recording');
    const bytes = new Uint8Array(await (await fetch(linkOf(event, 'recording'))).arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 3)).toString('latin1')).toBe('ID3');
    expect([...bytes.subarray(10, 12)]).toEqual([0xff, 0xfb]);
    expect([...bytes.subarray(10 + 417, 12 + 417)]).toEqual([0xff, 0xfb]);
    const digest = first.mediaBytes('acme', Number(event.data.id), 'recording');
    await first.stop();

    const second = await start({ mediaLinkExpirySeconds: 3600, mediaSizeBytes: 2000 });
    second.generate(20, 'acme');
    expect(second.mediaBytes('acme', Number(event.data.id), 'recording')).toEqual(digest);
  });

  it('refuses an expired link with 403 AccessDenied, Request has expired', async () => {
    const sim = await start({ mediaLinkExpirySeconds: 60 });
    const event = withLink(sim.generate(20, 'acme'), 'recording');
    nowMs = (event.timestamp + 60) * 1000;
    expect((await fetch(linkOf(event, 'recording'))).status).toBe(200);

    nowMs = (event.timestamp + 61) * 1000;
    const answer = await fetch(linkOf(event, 'recording'));
    expect(answer.status).toBe(403);
    expect(answer.headers.get('content-type')).toBe('application/xml');
    const body = await answer.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<Message>Request has expired</Message>');
    expect(sim.mediaDownloads('acme', Number(event.data.id), 'recording')).toMatchObject({
      downloads: 1,
      refused: 1,
    });
  });

  it('refuses a link whose signature, date or expiry was changed with 403', async () => {
    const sim = await start({ mediaLinkExpirySeconds: 3600 });
    const link = new URL(linkOf(withLink(sim.generate(20, 'acme'), 'recording'), 'recording'));
    const tampered = (name: string, value: (current: string) => string): string => {
      const copy = new URL(link);
      copy.searchParams.set(name, value(copy.searchParams.get(name) ?? ''));
      return copy.toString();
    };
    for (const changed of [
      tampered('X-Amz-Signature', (s) => `${s.slice(0, -1)}${s.endsWith('0') ? '1' : '0'}`),
      tampered('X-Amz-Expires', () => '999999'),
      tampered('X-Amz-Date', (d) => d.replace(/^\d{4}/, '2099')),
      `${link.origin}${link.pathname}`,
    ]) {
      const answer = await fetch(changed);
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
  });

  it('answers 404 NoSuchKey for a file no generated call has', async () => {
    const sim = await start({ mediaLinkExpirySeconds: 3600 });
    const event = withLink(sim.generate(20, 'acme'), 'recording');
    const link = new URL(linkOf(event, 'recording'));
    for (const path of [
      link.pathname.replace('/acme/', '/globex/'),
      link.pathname.replace(String(event.data.id), '1'),
      '/media/acme/nothing.mp3',
    ]) {
      const answer = await fetch(`${link.origin}${path}${link.search}`);
      expect(answer.status).toBe(404);
      expect(await answer.text()).toContain('<Code>NoSuchKey</Code>');
    }
    expect(() => sim.mediaBytes('globex', Number(event.data.id), 'recording')).toThrow(/no recording/);
  });

  it('signs the link anew for every event of the call, keeping its path', async () => {
    const sim = await start();
    const events = sim.generate(60, 'acme');
    const ended = withLink(events, 'voicemail', 'call.ended');
    const left = events.find((e) => e.event === 'call.voicemail_left' && e.data.id === ended.data.id);
    const endedLink = new URL(linkOf(ended, 'voicemail'));
    const leftLink = new URL(String(left?.data.voicemail));
    expect(leftLink.pathname).toBe(endedLink.pathname);
    expect(leftLink.pathname).toBe(`/media/acme/${String(ended.data.id)}/voicemail.mp3`);
    expect(leftLink.search).not.toBe(endedLink.search);
    expect(leftLink.searchParams.get('X-Amz-Date')).not.toBe(endedLink.searchParams.get('X-Amz-Date'));
    expect(leftLink.searchParams.get('X-Amz-Signature')).not.toBe(
      endedLink.searchParams.get('X-Amz-Signature'),
    );
    expect(endedLink.searchParams.get('X-Amz-Expires')).toBe('600');
  });
});

describe('simulator GET /v1/calls/:id', () => {
  it('answers the latest call data with a freshly signed link that works after the delivered one expired', async () => {
    const sim = await start({ mediaLinkExpirySeconds: 60 });
    const events = sim.generate(20, 'acme');
    const delivered = withLink(events, 'recording');
    const id = String(delivered.data.id);
    const last = events.filter((e) => e.resource === 'call' && String(e.data.id) === id).at(-1);
    nowMs = (delivered.timestamp + 3600) * 1000;
    expect((await fetch(linkOf(delivered, 'recording'))).status).toBe(403);

    const answer = await callApi(sim, `/calls/${id}`, { authorization: AUTH });
    expect(answer.status).toBe(200);
    const call = answer.json.call;
    if (!isJsonObject(call)) throw new Error(`no call in ${answer.text}`);
    const { recording, call_uuid, ...rest } = call;
    const { recording: _old, call_uuid: _uuid, ...expected } = last?.data ?? {};
    expect(rest).toEqual(expected);
    expect(call_uuid).toBeUndefined();
    const fresh = new URL(String(recording));
    expect(fresh.pathname).toBe(new URL(linkOf(delivered, 'recording')).pathname);
    expect(fresh.searchParams.get('X-Amz-Date')).toBe(amzDate(delivered.timestamp + 3600));
    const served = await download(String(recording));
    expect(served.status).toBe(200);
    expect(served.sha256).toBe(sim.mediaBytes('acme', Number(id), 'recording').sha256);
    expect(answer.headers.get('X-AircallApi-Remaining')).toEqual(expect.any(String));
  });

  it('answers 404 in the error shape for an unknown id or another company call, and 401 without credentials', async () => {
    const sim = await start();
    const id = String(withLink(sim.generate(20, 'globex'), 'recording').data.id);
    for (const path of ['/calls/1', `/calls/${id}`]) {
      const answer = await callApi(sim, path, { authorization: AUTH });
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ error: 'Not Found', troubleshoot: expect.any(String) });
    }
    expect((await callApi(sim, `/calls/${id}`)).status).toBe(401);
  });

  it('counts toward the rate limit like the other endpoints', async () => {
    const sim = await start({ rateLimitPerMinute: 1 });
    const id = String(withLink(sim.generate(20, 'acme'), 'recording').data.id);
    expect((await callApi(sim, `/calls/${id}`, { authorization: AUTH })).status).toBe(200);
    expect((await callApi(sim, `/calls/${id}`, { authorization: AUTH })).status).toBe(429);
  });
});

describe('simulator large media', () => {
  it('streams a 60 MB recording in chunks of mediaChunkBytes, never holding more than about one', async () => {
    const size = 60 * 1024 * 1024;
    const chunk = 64 * 1024;
    const sim = await start({
      mediaLinkExpirySeconds: 3600,
      mediaSizeBytes: () => size,
      mediaChunkBytes: chunk,
    });
    const event = withLink(sim.generate(20, 'acme'), 'recording');
    const callId = Number(event.data.id);

    const served = await download(linkOf(event, 'recording'));
    expect(served.status).toBe(200);
    expect(served.headers.get('content-length')).toBe(String(size));
    expect(served).toMatchObject(sim.mediaBytes('acme', callId, 'recording'));
    expect(served.length).toBe(size);
    const downloads = sim.mediaDownloads('acme', callId, 'recording');
    expect(downloads).toMatchObject({ downloads: 1, chunks: size / chunk, largestChunkBytes: chunk });
    expect(downloads.peakBufferedBytes).toBeLessThan(2 * chunk);
  }, 30_000);
});
