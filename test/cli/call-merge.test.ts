// How `migrate` merges a call into an item persist wrote since the deploy: the parts, their guards, and a dry run's
// prediction of what DynamoDB would apply.

import { describe, expect, it } from 'vitest';
import { CALL_STATE_ATTRIBUTES, callParts, partApplies, partUpdate } from '../../cli/call-merge.js';
import { toStateWrites } from '../../lambdas/persist/records.js';
import { eventDigest } from '../../lambdas/shared/digest.js';
import { sample } from '../support/fixtures.js';

const ACCOUNT = 'acme';
const ARCHIVE = {
  key: 'acme/calls/7/recording.mp3',
  bytes: 10,
  content_type: 'audio/mpeg',
  sha256: 'ab',
  archived_at: 1,
};
const INSIGHT = {
  event: 'transcription.created',
  timestamp: 20,
  order_key: '2#20',
  data_z: new Uint8Array([1]),
};

const call = {
  id: 7,
  account: ACCOUNT,
  status: 'done',
  started_at: 10,
  account_day: 'acme#1970-01-01',
  order_key: '3#15',
  data_z: new Uint8Array([0]),
  transcription: INSIGHT,
  recording_archive: ARCHIVE,
  recording_archive_lease: 99,
};

const part = (name: string) => {
  const found = callParts(call).find((p) => p.name === name);
  if (found === undefined) throw new Error(`no ${name} part`);
  return found;
};

describe('callParts', () => {
  it("splits a call into its state, each insight and each archive record, leaving a lease's attributes out", () => {
    expect(callParts(call).map((p) => p.name)).toEqual(['state', 'transcription', 'recording_archive']);
    expect(JSON.stringify(callParts(call))).not.toContain('lease');
  });

  it('sets the state it has and removes the state attributes it lacks, so no stale summary stays', () => {
    const state = part('state');

    expect(state.set).toEqual({
      account: ACCOUNT,
      status: 'done',
      started_at: 10,
      account_day: 'acme#1970-01-01',
      order_key: '3#15',
      data_z: call.data_z,
    });
    expect(state.remove).toContain('account_missed_day');
    expect(state.remove).toContain('missed_call_reason');
    expect(state.remove).not.toContain('account');
    expect([...Object.keys(state.set), ...state.remove].sort()).toEqual([...CALL_STATE_ATTRIBUTES].sort());
  });

  it('gives a call that only ever received insights no state part, and one without an account nothing', () => {
    const { order_key: _, ...insightOnly } = call;

    expect(callParts(insightOnly).map((p) => p.name)).toEqual(['transcription', 'recording_archive']);
    expect(callParts({ ...call, account: undefined })).toEqual([]);
  });
});

describe('partApplies', () => {
  it('applies every part to a call the destination lacks', () => {
    for (const p of callParts(call)) expect(partApplies(p, ACCOUNT, undefined)).toBe(true);
  });

  it('applies the state over an older one, or over an item holding only insights, and not over a newer or equal one', () => {
    const state = part('state');

    expect(partApplies(state, ACCOUNT, { id: 7, account: ACCOUNT, order_key: '3#14' })).toBe(true);
    expect(partApplies(state, ACCOUNT, { id: 7, account: ACCOUNT, summary: {} })).toBe(true);
    expect(partApplies(state, ACCOUNT, { id: 7, account: ACCOUNT, order_key: '3#15' })).toBe(false);
    expect(partApplies(state, ACCOUNT, { id: 7, account: ACCOUNT, order_key: '4#01' })).toBe(false);
  });

  it('orders an insight by its own key, and gives an archive record only to a call without one', () => {
    const insight = part('transcription');
    const archive = part('recording_archive');
    const stored = { id: 7, account: ACCOUNT, order_key: '9#99' };

    expect(partApplies(insight, ACCOUNT, stored)).toBe(true);
    expect(partApplies(insight, ACCOUNT, { ...stored, transcription: { order_key: '2#30' } })).toBe(false);
    expect(partApplies(archive, ACCOUNT, stored)).toBe(true);
    expect(partApplies(archive, ACCOUNT, { ...stored, recording_archive: { key: 'other' } })).toBe(false);
  });

  it("applies nothing to another account's item", () => {
    for (const p of callParts(call))
      expect(partApplies(p, ACCOUNT, { id: 7, account: 'globex' })).toBe(false);
  });
});

describe('partUpdate', () => {
  it("guards every part with persist's account guard, then its own", () => {
    expect(partUpdate(part('state'), ACCOUNT).ConditionExpression).toBe(
      '(attribute_not_exists(#id) OR #account = :account) AND (attribute_not_exists(#g0) OR #g0 < :order)',
    );
    const insight = partUpdate(part('transcription'), ACCOUNT);
    expect(insight.ConditionExpression).toContain('(attribute_not_exists(#g0.#g1) OR #g0.#g1 < :order)');
    expect(insight.ExpressionAttributeValues[':order']).toBe('2#20');
    const archive = partUpdate(part('recording_archive'), ACCOUNT);
    expect(archive.ConditionExpression).toBe(
      '(attribute_not_exists(#id) OR #account = :account) AND attribute_not_exists(#g0)',
    );
    expect(archive.UpdateExpression).toBe('SET #s0 = :s0');
  });
});

describe('CALL_STATE_ATTRIBUTES', () => {
  it.each([
    'captured-outbound-call.ended',
    'captured-inbound-voicemail-call.ended',
    'captured-outbound-call.created',
  ] as const)('names every attribute persist writes or removes for %s', (name) => {
    const envelope = sample(name);
    const event = { envelope, account: 'acme', receivedAt: ((envelope.timestamp ?? 0) + 1) * 1000 };
    const [write] = toStateWrites(event, eventDigest(envelope, 'acme'), 300);

    const written = [...Object.keys(write?.set ?? {}), ...(write?.remove ?? [])];
    expect(written.filter((attribute) => !CALL_STATE_ATTRIBUTES.includes(attribute))).toEqual([]);
  });
});
