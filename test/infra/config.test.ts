// Stack configuration: defaults, coercion of CLI strings, one error naming every bad value, file plus context.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig, parseConfig } from '../../lib/config.js';

const problemsOf = (raw: Record<string, unknown>): readonly string[] => {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('parseConfig accepted the configuration');
};

describe('parseConfig', () => {
  it('fills every absent key with its default and leaves the optional ones unset', () => {
    expect(parseConfig({})).toEqual({
      stackName: 'AircallWebhookStack',
      webhookPath: '/aircall/webhook',
      ingress: 'http-api',
      ingestReservedConcurrency: 20,
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      eventRetentionDays: 365,
      removalPolicy: 'retain',
      guardianSchedule: 'rate(5 minutes)',
      logRetentionDays: 30,
      tokenCacheSeconds: 60,
      timestampMarginSeconds: 300,
      maxPayloadBytes: 65_536,
      archiveMedia: true,
      maxMediaBytes: 536_870_912,
      archiveConcurrency: 2,
    });
    expect(parseConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('reads numbers given as strings, the way `cdk -c key=value` passes them', () => {
    const config = parseConfig({
      throttlingRateLimit: '12.5',
      throttlingBurstLimit: '30',
      eventRetentionDays: '0',
    });
    expect(config).toMatchObject({
      throttlingRateLimit: 12.5,
      throttlingBurstLimit: 30,
      eventRetentionDays: 0,
    });
  });

  it('accepts every optional key when valid', () => {
    const config = parseConfig({
      alarmEmail: 'ops@example.com',
      aircallSecretName: 'aircall/credentials',
      removalPolicy: 'destroy',
      guardianSchedule: 'cron(0/10 * * * ? *)',
      logRetentionDays: 365,
      webhookPath: '/hooks/aircall_v2',
    });
    expect(config).toMatchObject({
      alarmEmail: 'ops@example.com',
      aircallSecretName: 'aircall/credentials',
      removalPolicy: 'destroy',
      guardianSchedule: 'cron(0/10 * * * ? *)',
      logRetentionDays: 365,
      webhookPath: '/hooks/aircall_v2',
    });
  });

  it('takes a payload cap from 8 KiB to 64 KiB, as `cdk -c` passes it, and nothing above', () => {
    expect(parseConfig({ maxPayloadBytes: '16384' }).maxPayloadBytes).toBe(16_384);
    expect(parseConfig({ maxPayloadBytes: 8192 }).maxPayloadBytes).toBe(8192);
    expect(parseConfig({ maxPayloadBytes: 65_536 }).maxPayloadBytes).toBe(65_536);
    for (const bad of [65_537, 8191, 0, 1.5, 'big']) {
      expect(problemsOf({ maxPayloadBytes: bad })).toEqual([
        `maxPayloadBytes must be a whole number of bytes from 8192 to 65536 (above it a call item can outgrow DynamoDB's 400 KB) (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('takes the ingress as http-api (the default) or function-url, and nothing else', () => {
    expect(parseConfig({}).ingress).toBe('http-api');
    expect(parseConfig({ ingress: 'http-api' }).ingress).toBe('http-api');
    expect(parseConfig({ ingress: 'function-url' }).ingress).toBe('function-url');
    for (const bad of ['rest-api', 'HTTP-API', 'alb', true, 1]) {
      expect(problemsOf({ ingress: bad })).toEqual([
        `ingress must be one of 'http-api', 'function-url' (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('takes the reserved concurrency of ingest from 1 to 900 behind a function URL, as `cdk -c` passes it', () => {
    expect(parseConfig({ ingress: 'function-url' }).ingestReservedConcurrency).toBe(20);
    expect(
      parseConfig({ ingress: 'function-url', ingestReservedConcurrency: '50' }).ingestReservedConcurrency,
    ).toBe(50);
    for (const bad of [0, 901, 2.5, 'many']) {
      expect(problemsOf({ ingress: 'function-url', ingestReservedConcurrency: bad })).toEqual([
        `ingestReservedConcurrency must be a whole number from 1 to 900 (got ${JSON.stringify(bad)})`,
      ]);
    }
  });

  it('refuses a setting the chosen ingress would ignore: stage throttling behind a function URL, and the reverse', () => {
    expect(
      problemsOf({ ingress: 'function-url', throttlingRateLimit: 20, throttlingBurstLimit: 40 }),
    ).toEqual([
      "throttlingRateLimit is set but ingress is 'function-url', which has no stage to throttle: set ingestReservedConcurrency",
      "throttlingBurstLimit is set but ingress is 'function-url', which has no stage to throttle: set ingestReservedConcurrency",
    ]);
    expect(problemsOf({ ingestReservedConcurrency: 10 })).toEqual([
      "ingestReservedConcurrency is set but ingress is not 'function-url': the HTTP API's stage throttles instead",
    ]);
  });

  it('reads the timestamp margin in whole seconds, 0 included, as `cdk -c` passes it', () => {
    expect(parseConfig({ timestampMarginSeconds: '0' }).timestampMarginSeconds).toBe(0);
    expect(parseConfig({ timestampMarginSeconds: 60 }).timestampMarginSeconds).toBe(60);
    expect(problemsOf({ timestampMarginSeconds: -1 })).toEqual([
      'timestampMarginSeconds must be a whole number of seconds (got -1)',
    ]);
  });

  it('throws one error naming every bad value at once', () => {
    const problems = problemsOf({
      webhookPath: 'aircall/webhook/',
      throttlingRateLimit: 'fast',
      throttlingBurstLimit: 2.5,
      eventRetentionDays: -1,
      alarmEmail: 'not-an-email',
      removalPolicy: 'snapshot',
      aircallSecretName: 'has spaces',
      guardianSchedule: 'every 5 minutes',
      logRetentionDays: 31,
      tokenCacheSeconds: -5,
      timestampMarginSeconds: 1.5,
      stackName: '1-bad',
    });
    const keys = problems.map((p) => p.split(' ')[0]);
    expect(keys.sort()).toEqual(
      [
        'webhookPath',
        'throttlingRateLimit',
        'throttlingBurstLimit',
        'eventRetentionDays',
        'alarmEmail',
        'removalPolicy',
        'aircallSecretName',
        'guardianSchedule',
        'logRetentionDays',
        'tokenCacheSeconds',
        'timestampMarginSeconds',
        'stackName',
      ].sort(),
    );
    const message = (() => {
      try {
        parseConfig({ throttlingRateLimit: 'fast', removalPolicy: 'snapshot' });
      } catch (error) {
        return error instanceof Error ? error.message : '';
      }
      return '';
    })();
    expect(message).toMatch(/^Invalid configuration:\n/);
    expect(message).toMatch(/\n {2}- throttlingRateLimit must be a positive number \(got "fast"\)/);
    expect(message).toMatch(/\n {2}- removalPolicy must be 'retain' or 'destroy' \(got "snapshot"\)/);
  });

  it('reads webhookUrls as a JSON list, or as the comma-separated string `cdk -c` passes, without duplicates', () => {
    const urls = ['https://hooks.example.com/aircall/webhook', 'https://hooks.example.org/aircall'];
    expect(parseConfig({ webhookUrls: [...urls, urls[0]] }).webhookUrls).toEqual(urls);
    expect(parseConfig({ webhookUrls: urls.join(', ') }).webhookUrls).toEqual(urls);
  });

  it.each([
    ['http://hooks.example.com/aircall'],
    ['https://user:password@hooks.example.com/aircall'],
    ['https://hooks.example.com/aircall#here'],
    ['hooks.example.com/aircall'],
  ])('rejects the webhook URL %s', (url) => {
    expect(problemsOf({ webhookUrls: [url] })).toEqual([
      expect.stringMatching(/^webhookUrls must be a list of https URLs/),
    ]);
  });

  it('accepts the ARN of a KMS key for the secret, and refuses an alias or a key without a secret', () => {
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(
      parseConfig({ aircallSecretName: 'aircall/credentials', aircallSecretKmsKeyArn: arn }),
    ).toMatchObject({ aircallSecretKmsKeyArn: arn });
    expect(
      problemsOf({
        aircallSecretName: 'aircall/credentials',
        aircallSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/aircall',
      }),
    ).toEqual([expect.stringMatching(/^aircallSecretKmsKeyArn must be the ARN of a KMS key/)]);
    expect(problemsOf({ aircallSecretKmsKeyArn: arn })).toEqual([
      'aircallSecretKmsKeyArn is set but aircallSecretName is not: the key encrypts that secret',
    ]);
  });

  it('rejects a key it does not know, so a typo is not silently ignored', () => {
    expect(problemsOf({ webhookPth: '/x' })).toEqual([
      expect.stringMatching(/^webhookPth is not a configuration key/),
    ]);
  });

  it.each(['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'cron(* * * *)', 'rate(5 weeks)'])(
    'rejects the schedule %s',
    (schedule) => {
      expect(problemsOf({ guardianSchedule: schedule })).toHaveLength(1);
    },
  );

  it.each(['rate(1 minute)', 'rate(2 hours)', 'rate(1 day)', 'cron(0 12 * * ? *)'])(
    'accepts the schedule %s',
    (schedule) => {
      expect(parseConfig({ guardianSchedule: schedule }).guardianSchedule).toBe(schedule);
    },
  );
});

describe('loadConfig', () => {
  const dirWith = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'aircall-config-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('uses the defaults when there is neither a config file nor context', () => {
    expect(loadConfig(new App(), dirWith({}))).toEqual(DEFAULT_CONFIG);
  });

  it('reads aircall.config.json when present, and lets context override it key by key', () => {
    const cwd = dirWith({
      'aircall.config.json': JSON.stringify({ webhookPath: '/from/file', tokenCacheSeconds: 5 }),
    });
    const app = new App({ context: { tokenCacheSeconds: '10', someFeatureFlag: true } });
    expect(loadConfig(app, cwd)).toMatchObject({ webhookPath: '/from/file', tokenCacheSeconds: 10 });
  });

  it('reads the file named by context configFile', () => {
    const cwd = dirWith({ 'prod.json': JSON.stringify({ removalPolicy: 'destroy' }) });
    expect(loadConfig(new App({ context: { configFile: 'prod.json' } }), cwd).removalPolicy).toBe('destroy');
  });

  it('fails when the named config file does not exist or is not a JSON object', () => {
    const cwd = dirWith({ 'list.json': '[1, 2]', 'broken.json': '{ nope' });
    expect(() => loadConfig(new App({ context: { configFile: 'missing.json' } }), cwd)).toThrow(
      /does not exist/,
    );
    expect(() => loadConfig(new App({ context: { configFile: 'list.json' } }), cwd)).toThrow(/JSON object/);
    expect(() => loadConfig(new App({ context: { configFile: 'broken.json' } }), cwd)).toThrow(/as JSON/);
  });

  it('reports unknown keys of the file together with bad values of the context', () => {
    const cwd = dirWith({ 'aircall.config.json': JSON.stringify({ colour: 'blue' }) });
    const app = new App({ context: { throttlingBurstLimit: 'many' } });
    expect(() => loadConfig(app, cwd)).toThrow(
      /colour is not a configuration key[\s\S]*throttlingBurstLimit/,
    );
  });
});
