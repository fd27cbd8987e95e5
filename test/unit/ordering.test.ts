import { describe, expect, it } from 'vitest';
import type { AircallEnvelope } from '../../lambdas/shared/envelope.js';
import { baseEventName, callStage, eventRank, stateOrderKey } from '../../lambdas/shared/ordering.js';
import { sample } from '../support/fixtures.js';

const withEvent = (
  base: AircallEnvelope,
  event: string,
  data: Record<string, unknown> = {},
): AircallEnvelope => ({
  ...base,
  event,
  data: { ...base.data, ...(data as AircallEnvelope['data']) },
});

describe('eventRank', () => {
  it('follows the call lifecycle', () => {
    const order = [
      'call.created',
      'call.ringing_on_agent',
      'call.answered',
      'call.hungup',
      'call.ended',
      'call.tagged',
    ];
    const ranks = order.map((event) => eventRank('call', event));
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(new Set(ranks).size).toBe(ranks.length);
  });

  it('puts creation first and deletion last for users, numbers and contacts, v2 names included', () => {
    expect(eventRank('user', 'user.created.v2')).toBeLessThan(eventRank('user', 'user.connected.v2'));
    expect(eventRank('number', 'number.closed')).toBeLessThan(eventRank('number', 'number.deleted'));
    expect(eventRank('contact', 'contact.updated')).toBeLessThan(eventRank('contact', 'contact.deleted'));
    expect(baseEventName('user.opened.v2')).toBe('user.opened');
  });
});

describe('callStage', () => {
  const created = sample('captured-outbound-call.created');
  const hungup = sample('captured-outbound-call.hungup');
  const ended = sample('captured-outbound-call.ended');

  it('moves from live to provisional to final', () => {
    expect([callStage(created), callStage(hungup), callStage(ended)]).toEqual([0, 1, 2]);
  });

  it('treats an annotation of a finished call as final and one of a live call as live', () => {
    expect(callStage(withEvent(ended, 'call.tagged'))).toBe(2);
    expect(callStage(withEvent(created, 'call.tagged', { status: 'answered' }))).toBe(0);
  });
});

describe('stateOrderKey', () => {
  const hungup = sample('captured-outbound-call.hungup');
  const ended = sample('captured-outbound-call.ended');

  it('ranks call.ended above call.hungup even when hungup carries the later timestamp', () => {
    expect(stateOrderKey(hungup, 9_999_999_999, 'ff') < stateOrderKey(ended, 1, '00')).toBe(true);
  });

  it('breaks a timestamp tie by lifecycle, then by digest', () => {
    const answered = withEvent(hungup, 'call.answered', { status: 'answered' });
    const ringing = withEvent(hungup, 'call.ringing_on_agent', { status: 'initial' });
    expect(stateOrderKey(ringing, 100, 'ff') < stateOrderKey(answered, 100, '00')).toBe(true);
    expect(stateOrderKey(answered, 100, 'aa') < stateOrderKey(answered, 100, 'ab')).toBe(true);
  });

  it('keeps a deleted user, number or contact deleted whatever comes later', () => {
    const user = sample('captured-user.connected');
    const deleted = { ...user, event: 'user.deleted.v2' };
    expect(stateOrderKey(user, 9_999_999_999, 'ff') < stateOrderKey(deleted, 1, '00')).toBe(true);
  });

  it('orders by timestamp within a stage', () => {
    const user = sample('captured-user.connected');
    expect(stateOrderKey(user, 99, 'ff') < stateOrderKey(user, 100, '00')).toBe(true);
  });
});
