import { describe, expect, it } from 'vitest';
import { isExpired, linkExpiry } from '../../lambdas/archive/media-link.js';

const link = (query: string) => `https://production-eu-3-web.s3.eu-west-1.amazonaws.com/r.mp3?${query}`;

describe('linkExpiry', () => {
  it('adds X-Amz-Expires seconds to X-Amz-Date', () => {
    expect(linkExpiry(link('X-Amz-Date=20240131T235500Z&X-Amz-Expires=600'))).toEqual(
      new Date('2024-02-01T00:05:00Z'),
    );
  });

  it.each([
    ['no X-Amz-Date', 'X-Amz-Expires=600'],
    ['no X-Amz-Expires', 'X-Amz-Date=20240131T235500Z'],
    ['a date without the Z', 'X-Amz-Date=20240131T235500&X-Amz-Expires=600'],
    ['a date that does not exist', 'X-Amz-Date=20240231T235500Z&X-Amz-Expires=600'],
    ['an hour past 23', 'X-Amz-Date=20240131T245500Z&X-Amz-Expires=600'],
    ['a negative expiry', 'X-Amz-Date=20240131T235500Z&X-Amz-Expires=-1'],
    ['a fractional expiry', 'X-Amz-Date=20240131T235500Z&X-Amz-Expires=1.5'],
  ])('is undefined with %s', (_what, query) => {
    expect(linkExpiry(link(query))).toBeUndefined();
  });

  it('is undefined for a string that is not a URL', () => {
    expect(linkExpiry('not a url')).toBeUndefined();
  });
});

describe('isExpired', () => {
  const url = new URL(link('X-Amz-Date=20240131T235500Z&X-Amz-Expires=3600'));
  const expiry = Date.parse('2024-02-01T00:55:00Z');

  it('is false before the expiry and true from it on', () => {
    expect(isExpired(url, expiry - 1)).toBe(false);
    expect(isExpired(url, expiry)).toBe(true);
    expect(isExpired(url, new Date(expiry + 1))).toBe(true);
  });

  it('is false for a link that carries no expiry', () => {
    expect(isExpired(link('a=b'), Date.parse('2100-01-01T00:00:00Z'))).toBe(false);
  });
});
