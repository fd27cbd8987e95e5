// The archive's link refresh over the shared Aircall client: each answer of GET /v1/calls/:id as a CallLookup.

import { describe, expect, it } from 'vitest';
import { AircallClientCalls } from '../../lambdas/archive/adapters.js';
import {
  AircallApiError,
  type AircallCredentials,
  AircallRateLimitError,
} from '../../lambdas/shared/aircall/aircall.js';
import { AircallRateLimiters } from '../../lambdas/shared/aircall/rate-limiter.js';
import { scriptedFetch } from '../support/scripted-fetch.js';

const BASE_URL = 'https://api.aircall.test/v1';
const ACME: AircallCredentials = { account: 'acme', accessToken: 'oauth-acme' };
const RECORDING = 'https://production-eu-1-web.s3.eu-west-1.amazonaws.com/r.mp3?X-Amz-Expires=3600';

const callsFor = (known: readonly AircallCredentials[] = [ACME], maxRateLimitWaitMs?: number) => {
  const wire = scriptedFetch();
  const calls = new AircallClientCalls({
    credentialsFor: async (account) => known.find((credentials) => credentials.account === account),
    baseUrl: BASE_URL,
    fetch: wire.fetch,
    ...(maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWaitMs }),
  });
  return { calls, wire };
};

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, got a result');
};

describe('AircallClientCalls', () => {
  it('finds the call with its fresh recording link and no voicemail', async () => {
    const { calls, wire } = callsFor();
    wire.script({
      status: 200,
      text: `{"call":{"id":9223372036854775807,"recording":"${RECORDING}","voicemail":null}}`,
    });
    expect(await calls.getCall('acme', '9223372036854775807')).toEqual({
      status: 'found',
      call: { recording: RECORDING, voicemail: null },
    });
    expect(wire.requests[0]?.url.href).toBe(`${BASE_URL}/calls/9223372036854775807`);
    expect(wire.requests[0]?.headers.get('authorization')).toBe('Bearer oauth-acme');
  });

  it('reads a link that is absent or not a string as none', async () => {
    const { calls, wire } = callsFor();
    wire.script({ status: 200, json: { call: { id: 7, recording: 12 } } });
    expect(await calls.getCall('acme', '7')).toEqual({
      status: 'found',
      call: { recording: null, voicemail: null },
    });
  });

  it('says not-found on 404', async () => {
    const { calls, wire } = callsFor();
    wire.script({ status: 404, json: { error: 'Not found' } });
    expect(await calls.getCall('acme', '7')).toEqual({ status: 'not-found' });
  });

  it('says refused on 401 and on 403', async () => {
    const { calls, wire } = callsFor();
    wire.script(
      { status: 401, json: { error: 'Unauthorized' } },
      { status: 403, json: { error: 'Forbidden' } },
    );
    expect(await calls.getCall('acme', '7')).toEqual({ status: 'refused' });
    expect(await calls.getCall('acme', '7')).toEqual({ status: 'refused' });
  });

  it('says no-credentials, and asks Aircall nothing, for an account it holds none for', async () => {
    const { calls, wire } = callsFor();
    expect(await calls.getCall('globex', '7')).toEqual({ status: 'no-credentials' });
    expect(wire.requests).toHaveLength(0);
  });

  it('throws a 429 it may not wait out, for SQS to retry the job', async () => {
    const { calls, wire } = callsFor([ACME], 0);
    wire.script({ status: 429, json: { error: 'Too many requests' } });
    expect(await rejection(calls.getCall('acme', '7'))).toBeInstanceOf(AircallRateLimitError);
  });

  it('throws an answer without a call', async () => {
    const { calls, wire } = callsFor();
    wire.script({ status: 200, text: 'not json' });
    expect(await rejection(calls.getCall('acme', '7'))).toBeInstanceOf(AircallApiError);
  });

  it('waits out a 429 within its budget, on the limiter of the account, then answers', async () => {
    let now = 1_700_000_000_000;
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      now += ms;
    };
    const wire = scriptedFetch(() => now);
    const limiters = new AircallRateLimiters({ now: () => now, sleep });
    const calls = new AircallClientCalls({
      credentialsFor: async () => ACME,
      baseUrl: BASE_URL,
      fetch: wire.fetch,
      limiters,
    });
    const reset = now + 2000;
    wire.script(
      { status: 429, json: { error: 'Too many requests' }, headers: { 'X-AircallApi-Reset': String(reset) } },
      { status: 404, json: { error: 'Not found' } },
    );
    expect(await calls.getCall('acme', '7')).toEqual({ status: 'not-found' });
    expect(waits).toEqual([2000]);
    expect(wire.requests[1]?.at).toBe(reset);
  });
});
