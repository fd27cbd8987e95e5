import { describe, expect, it } from 'vitest';
import { digestsMatch, hashToken } from '../../lambdas/shared/token.js';

describe('hashToken', () => {
  it('gives the hex SHA-256 of the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('digestsMatch', () => {
  it('matches equal digests', () => {
    expect(digestsMatch(hashToken('a'), hashToken('a'))).toBe(true);
  });

  it('refuses different digests, digests of another length, and empty ones', () => {
    expect(digestsMatch(hashToken('a'), hashToken('b'))).toBe(false);
    expect(digestsMatch(hashToken('a'), hashToken('a').slice(0, 32))).toBe(false);
    expect(digestsMatch('', '')).toBe(false);
  });
});
