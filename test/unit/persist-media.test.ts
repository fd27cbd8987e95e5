// Persist hands recordings and voicemails to the archive: one job per file not archived yet, after the call is stored.

import { describe, expect, it } from 'vitest';
import { mediaJobsOf, probeArchives } from '../../lambdas/persist/media-jobs.js';
import { persistEvent } from '../../lambdas/persist/persist.js';
import type { QueuedEvent, StateWrite } from '../../lambdas/persist/ports.js';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { sample } from '../support/fixtures.js';
import { MemoryEventLog, MemoryMediaJobQueue, MemoryStateStore } from '../support/memory.js';

const CALL_ID = 780836754;
const voicemailEnded = sample('captured-inbound-voicemail-call.ended');
const VOICEMAIL = String(voicemailEnded.data.voicemail);
const RECORDING =
  'https://production-pdx-555773567328-web-recordings.s3.us-west-2.amazonaws.com/r.mp3?X-Amz-Expires=600';

const queue = (envelope: AircallEnvelope, account = 'acme'): QueuedEvent => ({
  envelope,
  account,
  receivedAt: ((envelope.timestamp ?? 0) + 1) * 1000,
});

/** The same call, a later event, its links signed anew. */
const later = (event: string, seconds: number, data: Record<string, unknown> = {}): AircallEnvelope => ({
  ...voicemailEnded,
  event,
  timestamp: (voicemailEnded.timestamp ?? 0) + seconds,
  data: { ...voicemailEnded.data, voicemail: `${VOICEMAIL}&resigned=${seconds}`, ...data },
});

const setup = (media = true) => {
  const events = new MemoryEventLog();
  const state = new MemoryStateStore();
  const mediaJobs = new MemoryMediaJobQueue();
  const deps = {
    events,
    state,
    retentionDays: 0,
    timestampMarginSeconds: 300,
    ...(media ? { mediaJobs } : {}),
  };
  return { state, mediaJobs, deps };
};

const markArchived = (state: MemoryStateStore, kind: 'recording' | 'voicemail'): void => {
  const call = state.tables.calls.get(CALL_ID);
  if (call === undefined) throw new Error('no call stored');
  call[`${kind}_archive`] = { key: `acme/calls/${CALL_ID}/${kind}.mp3`, sha256: 'ab' };
};

describe('persistEvent with the media archive', () => {
  it('sends a job for the voicemail of a stored call, with its account, id and link', async () => {
    const { mediaJobs, deps } = setup();
    const outcome = await persistEvent(queue(voicemailEnded), deps);

    expect(outcome).toMatchObject({ applied: 1, mediaJobs: 1 });
    expect(mediaJobs.jobs).toEqual([
      { account: 'acme', callId: String(CALL_ID), kind: 'voicemail', url: VOICEMAIL },
    ]);
  });

  it('sends one job per file when a call has both a recording and a voicemail', async () => {
    const { mediaJobs, deps } = setup();
    await persistEvent(
      queue({ ...voicemailEnded, data: { ...voicemailEnded.data, recording: RECORDING } }),
      deps,
    );
    expect(mediaJobs.jobs.map((job) => job.kind).sort()).toEqual(['recording', 'voicemail']);
  });

  it('sends nothing once the call records the file as archived, whatever the later events link to', async () => {
    const { state, mediaJobs, deps } = setup();
    await persistEvent(queue(voicemailEnded), deps);
    markArchived(state, 'voicemail');
    await persistEvent(queue(later('call.tagged', 60)), deps);
    await persistEvent(queue(later('call.commented', 90)), deps);
    expect(mediaJobs.jobs).toHaveLength(1);
  });

  it('keeps the archive on the call through later events of the call', async () => {
    const { state, deps } = setup();
    await persistEvent(queue(voicemailEnded), deps);
    markArchived(state, 'voicemail');
    await persistEvent(queue(later('call.tagged', 60, { voicemail: null })), deps);
    expect(state.tables.calls.get(CALL_ID)).toMatchObject({
      last_event: 'call.tagged',
      voicemail_archive: { key: `acme/calls/${CALL_ID}/voicemail.mp3` },
    });
  });

  it('sends the job again for a stale event of a file not archived: the retry of an event whose send failed', async () => {
    const { mediaJobs, deps } = setup();
    mediaJobs.failure = new Error('SQS is away');
    await expect(persistEvent(queue(voicemailEnded), deps)).rejects.toThrow('SQS is away');
    mediaJobs.failure = undefined;

    const retry = await persistEvent(queue(voicemailEnded), deps);
    expect(retry).toMatchObject({ logged: false, applied: 0, stale: 1, mediaJobs: 1 });
    expect(mediaJobs.jobs).toHaveLength(1);
  });

  it('sends nothing for a call refused as another account’s', async () => {
    const { mediaJobs, deps } = setup();
    await persistEvent(queue(voicemailEnded), deps);
    await persistEvent(queue(later('call.tagged', 60), 'globex'), deps);
    expect(mediaJobs.jobs.map((job) => job.account)).toEqual(['acme']);
  });

  it('sends nothing, and asks the store for nothing, when the stack archives no media', async () => {
    const { state, mediaJobs, deps } = setup(false);
    const probes: (readonly string[] | undefined)[] = [];
    const watched = {
      apply: (write: StateWrite) => {
        probes.push(write.probe);
        return state.apply(write);
      },
    };
    const outcome = await persistEvent(queue(voicemailEnded), { ...deps, state: watched });
    expect(outcome.mediaJobs).toBe(0);
    expect(probes).toEqual([undefined]);
    expect(mediaJobs.jobs).toEqual([]);
  });

  it('sends nothing for a call without links, or for an insight kept on a call', async () => {
    const { mediaJobs, deps } = setup();
    await persistEvent(queue(sample('captured-outbound-call.ended')), deps);
    await persistEvent(
      queue({
        resource: 'conversation_intelligence',
        event: 'transcription.created',
        token: 'stripped',
        timestamp: 1646389800,
        data: { call_id: CALL_ID, voicemail: VOICEMAIL },
      }),
      deps,
    );
    expect(mediaJobs.jobs).toEqual([]);
  });
});

describe('mediaJobsOf', () => {
  const write: StateWrite = probeArchives({
    table: 'calls',
    id: CALL_ID,
    account: 'acme',
    guard: ['order_key'],
    orderKey: 'k',
    set: { recording: RECORDING.slice(0, RECORDING.indexOf('?')) },
    remove: [],
    media: { recording: RECORDING, voicemail: 'not a link' },
  });

  it('probes for both archive attributes of a call write carrying a link', () => {
    expect(write.probe).toEqual(['recording_archive', 'voicemail_archive']);
  });

  it('names only the files with a link and no archive', () => {
    expect(mediaJobsOf(write, { outcome: 'applied', present: [] })).toEqual([
      { account: 'acme', callId: String(CALL_ID), kind: 'recording', url: RECORDING },
    ]);
    expect(mediaJobsOf(write, { outcome: 'applied', present: ['recording_archive'] })).toEqual([]);
    expect(mediaJobsOf(write, { outcome: 'foreign', present: [] })).toEqual([]);
  });
});
