import { describe, expect, it } from 'vitest';
import {
  CredentialsError,
  credentialsFromEnvironment,
  parseCredentials,
} from '../../lambdas/shared/aircall/credentials.js';

describe('parseCredentials', () => {
  it('reads Basic and OAuth accounts from a list, and a single object as one account', () => {
    expect(
      parseCredentials(
        JSON.stringify([
          { account: 'acme', api_id: 'id', api_token: 'secret' },
          { account: 'globex', access_token: 'bearer' },
        ]),
      ),
    ).toEqual([
      { account: 'acme', apiId: 'id', apiToken: 'secret' },
      { account: 'globex', accessToken: 'bearer' },
    ]);
    expect(parseCredentials('{"account":"solo","access_token":"t"}')).toEqual([
      { account: 'solo', accessToken: 't' },
    ]);
  });

  it('names every bad entry by position and field, never by value', () => {
    const secret = JSON.stringify([
      { api_id: 'id', api_token: 'hunter2' },
      { account: 'a', api_id: 'only-id' },
      7,
    ]);
    expect(() => parseCredentials(secret)).toThrow(CredentialsError);
    try {
      parseCredentials(secret);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('entry 1 has no "account"');
      expect(message).toContain('entry 2 needs "api_id" and "api_token", or "access_token"');
      expect(message).toContain('entry 3 is not an object');
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('only-id');
    }
  });

  it('refuses a repeated account and a secret that is not JSON', () => {
    expect(() =>
      parseCredentials('[{"account":"a","access_token":"x"},{"account":"a","access_token":"y"}]'),
    ).toThrow('repeats account "a"');
    expect(() => parseCredentials('not json')).toThrow('not JSON');
  });
});

describe('credentialsFromEnvironment', () => {
  it('prefers an OAuth token, takes flags over the environment, and needs both halves of Basic', () => {
    const env = { AIRCALL_API_ID: 'env-id', AIRCALL_API_TOKEN: 'env-token' };
    expect(credentialsFromEnvironment('acme', env)).toEqual({
      account: 'acme',
      apiId: 'env-id',
      apiToken: 'env-token',
    });
    expect(credentialsFromEnvironment('acme', env, { apiId: 'flag-id' })).toEqual({
      account: 'acme',
      apiId: 'flag-id',
      apiToken: 'env-token',
    });
    expect(credentialsFromEnvironment('acme', { ...env, AIRCALL_ACCESS_TOKEN: 'bearer' })).toEqual({
      account: 'acme',
      accessToken: 'bearer',
    });
    expect(credentialsFromEnvironment('acme', { AIRCALL_API_ID: 'only-id' })).toBeUndefined();
  });
});
