// The media archive's configuration keys: defaults, coercion of CLI strings, bounds, and one error naming each bad value.
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, DEFAULT_CONFIG, loadConfig, parseConfig } from '../../lib/config.js';

const problemsOf = (raw: Record<string, unknown>): readonly string[] => {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('parseConfig accepted the configuration');
};

describe('the media archive configuration', () => {
  it('archives by default, up to 512 MiB, two downloads at once, keeping files forever on the built-in origins', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ archiveMedia: true, maxMediaBytes: 536_870_912, archiveConcurrency: 2 });
    expect(config).not.toHaveProperty('mediaAllowedOrigins');
    expect(config).not.toHaveProperty('mediaColdAfterDays');
    expect(config).not.toHaveProperty('mediaExpireAfterDays');
    expect(DEFAULT_CONFIG).toMatchObject({
      archiveMedia: true,
      maxMediaBytes: 536_870_912,
      archiveConcurrency: 2,
    });
  });

  it('knows every media key', () => {
    expect(CONFIG_KEYS).toEqual(
      expect.arrayContaining([
        'archiveMedia',
        'mediaAllowedOrigins',
        'maxMediaBytes',
        'mediaColdAfterDays',
        'mediaExpireAfterDays',
        'archiveConcurrency',
      ]),
    );
  });

  it('reads archiveMedia as a boolean or as `cdk -c` passes it, and nothing else', () => {
    expect(parseConfig({ archiveMedia: false }).archiveMedia).toBe(false);
    expect(parseConfig({ archiveMedia: 'false' }).archiveMedia).toBe(false);
    expect(parseConfig({ archiveMedia: 'true' }).archiveMedia).toBe(true);
    for (const bad of ['no', 0, 'FALSE']) {
      expect(problemsOf({ archiveMedia: bad })).toEqual([
        `archiveMedia must be true or false (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('reads allowed origins as a list or comma-separated, trimmed and without repeats', () => {
    expect(
      parseConfig({ mediaAllowedOrigins: ['https://media.example.com', ' https://*.example.org:8443 '] })
        .mediaAllowedOrigins,
    ).toEqual(['https://media.example.com', 'https://*.example.org:8443']);
    expect(
      parseConfig({ mediaAllowedOrigins: 'https://a.example.com, http://[::1]:9000,https://a.example.com' })
        .mediaAllowedOrigins,
    ).toEqual(['https://a.example.com', 'http://[::1]:9000']);
  });

  it('refuses origins with a path, credentials, another scheme, or none at all', () => {
    const rule =
      'mediaAllowedOrigins must be a non-empty list of origins such as https://media.example.com or https://*.example.com (no path)';
    for (const bad of [
      ['https://media.example.com/recordings'],
      ['https://user:pass@media.example.com'],
      ['ftp://media.example.com'],
      ['media.example.com'],
      [],
      '',
      [42],
    ]) {
      expect(problemsOf({ mediaAllowedOrigins: bad })).toEqual([`${rule} (got ${JSON.stringify(bad)})`]);
    }
  });

  it('takes a media size cap from 1 MiB to 2 GiB, as `cdk -c` passes it, and nothing outside', () => {
    expect(parseConfig({ maxMediaBytes: '1048576' }).maxMediaBytes).toBe(1_048_576);
    expect(parseConfig({ maxMediaBytes: 2_147_483_648 }).maxMediaBytes).toBe(2_147_483_648);
    for (const bad of [1_048_575, 2_147_483_649, 0, 1_500_000.5, 'big']) {
      expect(problemsOf({ maxMediaBytes: bad })).toEqual([
        `maxMediaBytes must be a whole number of bytes from 1048576 to 2147483648 (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('takes an archive concurrency from 2, the least an SQS event source allows, to 10', () => {
    expect(parseConfig({ archiveConcurrency: '2' }).archiveConcurrency).toBe(2);
    expect(parseConfig({ archiveConcurrency: 10 }).archiveConcurrency).toBe(10);
    for (const bad of [1, 0, 11, 2.5, 'many']) {
      expect(problemsOf({ archiveConcurrency: bad })).toEqual([
        `archiveConcurrency must be a whole number from 2 to 10 (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('takes the cold and expiry days alone or together, expiry after cold', () => {
    expect(parseConfig({ mediaColdAfterDays: '30' })).toMatchObject({ mediaColdAfterDays: 30 });
    expect(parseConfig({ mediaExpireAfterDays: 1 })).toMatchObject({ mediaExpireAfterDays: 1 });
    expect(parseConfig({ mediaColdAfterDays: 30, mediaExpireAfterDays: '2555' })).toMatchObject({
      mediaColdAfterDays: 30,
      mediaExpireAfterDays: 2555,
    });
  });

  it('refuses days that are not whole and positive, and an expiry not after the cold tier', () => {
    for (const key of ['mediaColdAfterDays', 'mediaExpireAfterDays']) {
      for (const bad of [0, -1, 1.5, 'soon']) {
        expect(problemsOf({ [key]: bad })).toEqual([
          `${key} must be a whole number of days, at least 1 (got ${JSON.stringify(bad)})`,
        ]);
      }
    }
    expect(problemsOf({ mediaColdAfterDays: 90, mediaExpireAfterDays: 90 })).toEqual([
      'mediaExpireAfterDays (90) must be greater than mediaColdAfterDays (90)',
    ]);
  });

  it('names every bad media value at once', () => {
    expect(problemsOf({ archiveMedia: 'yes', maxMediaBytes: 1, archiveConcurrency: 0 })).toHaveLength(3);
  });

  it('reads the media keys from CDK context too', () => {
    const app = new App({
      context: { archiveMedia: 'false', archiveConcurrency: '4', mediaColdAfterDays: '60' },
    });
    expect(loadConfig(app, '/nonexistent-dir-for-media-config')).toMatchObject({
      archiveMedia: false,
      archiveConcurrency: 4,
      mediaColdAfterDays: 60,
    });
  });
});
