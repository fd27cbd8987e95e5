// The local stack's settings, from the environment: one reading shared by `npm start`, the CLI and the tests.

import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import { credentialsFromEnvironment } from '../lambdas/shared/aircall/credentials.js';
import { DEFAULT_CONFIG } from '../lib/config.js';
import { AIRCALL_API_URL } from '../lib/definitions/pipeline.js';
import { localTableName, TABLE_NAMES, type TableName } from '../lib/definitions/tables.js';
import { LOOPBACK, urlFor } from './clients.js';

const localTableNames = (): Record<TableName, string> =>
  Object.fromEntries(TABLE_NAMES.map((name) => [name, localTableName(name)])) as Record<TableName, string>;

export interface LocalSettings {
  /** Address every server of the local stack listens on (`BIND_ADDRESS`): loopback unless the user asks. */
  readonly host: string;
  /** HTTP port of the webhook endpoint (`PORT`). */
  readonly port: number;
  /** Port of the embedded DynamoDB (`DYNAMODB_PORT`). */
  readonly dynamoPort: number;
  /** Port of the embedded SQS and S3 (`SQS_PORT`). */
  readonly sqsPort: number;
  /** Where data survives restarts (`DATA_DIR`). */
  readonly dataDir: string;
  /**
   * The development token registered at start, when `LOCAL_WEBHOOK_TOKEN` names one; otherwise the stack makes a
   * random one, once per data directory, and keeps it in `DATA_DIR/dev-token` (see dev-token.ts).
   */
  readonly token: string | undefined;
  /** The account the development token belongs to (`LOCAL_ACCOUNT`). */
  readonly account: string;
  /** Path of the webhook route (`WEBHOOK_PATH`), as in the deployed stack. */
  readonly webhookPath: string;
  /**
   * Host names the webhook endpoint answers besides loopback and `host`: that of `WEBHOOK_URL`, the tunnel Aircall
   * delivers through, when it is set. The emulators answer loopback and `host` only.
   */
  readonly webhookHosts: readonly string[];
  /** Days an `events` row is kept, written as its `expires_at` (`EVENT_RETENTION_DAYS`); 0 keeps it for ever. */
  readonly eventRetentionDays: number;
  /** Physical table names: locally, the logical names, with their revision from the second on (`calls-v2`). */
  readonly tables: Readonly<Record<TableName, string>>;
  readonly queues: { readonly queue: string; readonly deadLetterQueue: string };
  /** The media archive's bucket on the embedded S3, and its job queue and dead-letter queue. */
  readonly media: { readonly bucket: string; readonly queue: string; readonly deadLetterQueue: string };
  /**
   * Origins the local archive may download from besides the simulator's own (`MEDIA_ALLOWED_ORIGINS`,
   * comma-separated); unset, Aircall's media hosts.
   */
  readonly mediaAllowedOrigins: string | undefined;
}

export const LOCAL_DEFAULTS = {
  BIND_ADDRESS: LOOPBACK,
  PORT: '3000',
  DYNAMODB_PORT: '8000',
  SQS_PORT: '9324',
  DATA_DIR: '.data',
  LOCAL_ACCOUNT: 'local',
  WEBHOOK_PATH: '/aircall/webhook',
  EVENT_RETENTION_DAYS: String(DEFAULT_CONFIG.eventRetentionDays),
} as const;

const port = (name: string, value: string, problems: string[]): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    problems.push(`${name} must be a port, got "${value}"`);
  return parsed;
};

const wholeNumber = (name: string, value: string, problems: string[]): number => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    problems.push(`${name} must be a whole number, got "${value}"`);
  return parsed;
};

export const readLocalSettings = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalSettings => {
  const value = (name: keyof typeof LOCAL_DEFAULTS): string => {
    const given = env[name];
    return given === undefined || given === '' ? LOCAL_DEFAULTS[name] : given;
  };
  const problems: string[] = [];
  const host = value('BIND_ADDRESS');
  if (isIP(host) === 0) problems.push(`BIND_ADDRESS must be an IP address, got "${host}"`);
  const webhookHosts: string[] = [];
  if (env.WEBHOOK_URL) {
    if (URL.canParse(env.WEBHOOK_URL)) webhookHosts.push(new URL(env.WEBHOOK_URL).hostname);
    else problems.push('WEBHOOK_URL must be a URL');
  }
  const settings: LocalSettings = {
    host,
    port: port('PORT', value('PORT'), problems),
    dynamoPort: port('DYNAMODB_PORT', value('DYNAMODB_PORT'), problems),
    sqsPort: port('SQS_PORT', value('SQS_PORT'), problems),
    dataDir: resolve(value('DATA_DIR')),
    token: env.LOCAL_WEBHOOK_TOKEN || undefined,
    account: value('LOCAL_ACCOUNT'),
    webhookPath: value('WEBHOOK_PATH'),
    webhookHosts,
    eventRetentionDays: wholeNumber('EVENT_RETENTION_DAYS', value('EVENT_RETENTION_DAYS'), problems),
    tables: localTableNames(),
    queues: { queue: 'events', deadLetterQueue: 'events-dlq' },
    media: { bucket: 'media', queue: 'media', deadLetterQueue: 'media-dlq' },
    mediaAllowedOrigins: env.MEDIA_ALLOWED_ORIGINS?.trim() || undefined,
  };
  if (!settings.webhookPath.startsWith('/'))
    problems.push(`WEBHOOK_PATH must start with "/", got "${settings.webhookPath}"`);
  if (problems.length > 0) throw new Error(`Invalid local settings: ${problems.join('; ')}`);
  return settings;
};

export interface LocalEndpoints {
  readonly webhookUrl: string;
  readonly dynamodb: string;
  readonly sqs: string;
  /** The same server as SQS: fauxqs serves both. */
  readonly s3: string;
}

/** Endpoints the local clients use: an IP address rather than localhost, which may resolve to ::1 first. */
export const localEndpoints = (settings: LocalSettings): LocalEndpoints => ({
  webhookUrl: `${urlFor(settings.host, settings.port)}${settings.webhookPath}`,
  dynamodb: urlFor(settings.host, settings.dynamoPort),
  sqs: urlFor(settings.host, settings.sqsPort),
  s3: urlFor(settings.host, settings.sqsPort),
});

export interface LocalGuardianSettings {
  readonly credentials: AircallCredentials;
  readonly apiUrl: string;
  /** The URL Aircall delivers to; the local webhook URL unless a tunnel fronts it. */
  readonly stackUrl?: string;
  readonly intervalMs: number;
}

export interface LocalExtras {
  /** `SIMULATOR=1` (or `npm start -- --simulator`): the Aircall simulator, with traffic at `SIMULATOR_RATE`. */
  readonly simulator?: { readonly port: number; readonly eventsPerSecond: number };
  /** A real Aircall account for the local guardian, from `AIRCALL_*` variables, when they are set. */
  readonly guardian?: LocalGuardianSettings;
  readonly guardianIntervalMs: number;
}

const isOn = (value: string | undefined): boolean => value !== undefined && /^(1|true|on|yes)$/i.test(value);

const positive = (name: string, value: string | undefined, fallback: number, problems: string[]): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    problems.push(`${name} must be a non-negative number, got "${value}"`);
  return parsed;
};

export const readLocalExtras = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  argv: readonly string[] = [],
): LocalExtras => {
  const problems: string[] = [];
  const guardianIntervalMs =
    positive('GUARDIAN_INTERVAL_SECONDS', env.GUARDIAN_INTERVAL_SECONDS, 300, problems) * 1000;
  const simulatorOn = isOn(env.SIMULATOR) || argv.includes('--simulator');
  const simulator = simulatorOn
    ? {
        port: port('SIMULATOR_PORT', env.SIMULATOR_PORT ?? '4000', problems),
        eventsPerSecond: positive('SIMULATOR_RATE', env.SIMULATOR_RATE, 2, problems),
      }
    : undefined;
  const apiUrl = env.AIRCALL_API_URL || AIRCALL_API_URL;
  const credentials = credentialsFromEnvironment(env.AIRCALL_ACCOUNT || 'default', env);
  if (problems.length > 0) throw new Error(`Invalid local settings: ${problems.join('; ')}`);
  return {
    ...(simulator === undefined ? {} : { simulator }),
    ...(credentials === undefined
      ? {}
      : {
          guardian: {
            credentials,
            apiUrl,
            intervalMs: guardianIntervalMs,
            ...(env.WEBHOOK_URL ? { stackUrl: env.WEBHOOK_URL } : {}),
          },
        }),
    guardianIntervalMs,
  };
};
