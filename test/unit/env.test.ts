import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../../lambdas/ingest/config.js';
import { loadPersistConfig } from '../../lambdas/persist/config.js';
import { readEnv, toWholeNumber } from '../../lambdas/shared/env.js';

describe('readEnv', () => {
  it('names every missing variable in one error', () => {
    expect(() =>
      readEnv({ a: { name: 'A_VAR' }, b: { name: 'B_VAR' }, c: { name: 'C_VAR' } }, { B_VAR: 'x' }),
    ).toThrow('Missing environment variables: A_VAR, C_VAR');
  });

  it('uses defaults and treats an empty value as missing', () => {
    expect(readEnv({ a: { name: 'A', default: '5' } }, {})).toEqual({ a: '5' });
    expect(() => readEnv({ a: { name: 'A' } }, { A: '' })).toThrow('A');
  });
});

describe('toWholeNumber', () => {
  it('refuses fractions, negatives and words', () => {
    expect(toWholeNumber('N', '12')).toBe(12);
    for (const bad of ['1.5', '-1', 'ten'])
      expect(() => toWholeNumber('N', bad)).toThrow('N must be a whole number');
  });
});

describe('handler configuration', () => {
  it('reads the ingest settings with a default token cache of one minute', () => {
    const config = loadIngestConfig({ EVENTS_QUEUE_URL: 'http://q', WEBHOOKS_TABLE: 'hooks' });
    expect(config).toMatchObject({ queueUrl: 'http://q', webhooksTable: 'hooks', tokenCacheMs: 60_000 });
    expect(config.maxBodyBytes).toBeLessThan(1_048_576);
  });

  it('names every table the persist function is missing', () => {
    expect(() => loadPersistConfig({ CALLS_TABLE: 'c' })).toThrow(
      'Missing environment variables: EVENTS_TABLE, USERS_TABLE, NUMBERS_TABLE, CONTACTS_TABLE',
    );
  });
});
