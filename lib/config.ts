// Typed stack configuration, read once from CDK context and an optional JSON file and validated in one place.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IConstruct } from 'constructs';
import { ARCHIVE, ARCHIVE_CONCURRENCY, isOriginLike, MEDIA_SIZE_CAP } from './definitions/archive.js';
import { DEFAULT_TIMESTAMP_MARGIN_SECONDS, PAYLOAD_CAP } from './definitions/pipeline.js';
import { splitWebhookUrls, webhookUrlProblem } from './definitions/webhook-urls.js';

export type RemovalPolicyName = 'retain' | 'destroy';

/**
 * What receives Aircall's POST in front of ingest: an API Gateway HTTP API (stage throttling, access log, WAF and
 * custom domains possible, $1.00 per million requests) or a Lambda function URL (no per-request fee; the function's
 * reserved concurrency is its only throttle).
 */
export type IngressKind = 'http-api' | 'function-url';
export const INGRESS_KINDS: readonly IngressKind[] = ['http-api', 'function-url'];

/**
 * Ingest's reserved concurrency behind a function URL. Warm, ingest answers in milliseconds, so 20 at once serve
 * hundreds of requests a second. At most 900: the default account limit of 1000 less the 100 Lambda keeps unreserved.
 */
export const INGEST_RESERVED_CONCURRENCY = { default: 20, min: 1, max: 900 } as const;

export interface StackConfig {
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Path of the webhook route, e.g. `/aircall/webhook`. */
  readonly webhookPath: string;
  /** What receives the webhooks: an API Gateway HTTP API, or a Lambda function URL. */
  readonly ingress: IngressKind;
  /**
   * Ingest functions at once behind a function URL, reserved out of the account's concurrency: the only throttle a
   * function URL has (above it, callers get 429 and Aircall retries). Used with `ingress: 'function-url'` only.
   */
  readonly ingestReservedConcurrency: number;
  /** Steady-state requests per second the HTTP API accepts. */
  readonly throttlingRateLimit: number;
  /** Requests the HTTP API accepts in a burst. */
  readonly throttlingBurstLimit: number;
  /** Days an event stays in the event log; 0 keeps events forever. */
  readonly eventRetentionDays: number;
  /** Where alarms are sent, when set. */
  readonly alarmEmail?: string;
  /** Whether tables and log groups outlive the stack. */
  readonly removalPolicy: RemovalPolicyName;
  /** Secrets Manager secret holding Aircall credentials per account, when set. */
  readonly aircallSecretName?: string;
  /** ARN of the customer-managed KMS key that encrypts that secret, when it is not the AWS-managed key. */
  readonly aircallSecretKmsKeyArn?: string;
  /**
   * Further https URLs Aircall delivers to for this stack (custom domains in front of its API); the guardian keeps
   * the webhooks pointing at any of them or at the API's own URL, which is always included.
   */
  readonly webhookUrls?: readonly string[];
  /** EventBridge schedule expression of the guardian. */
  readonly guardianSchedule: string;
  /** Retention of every log group, in days (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** How long ingest caches a token lookup. */
  readonly tokenCacheSeconds: number;
  /** Seconds an event's timestamp may be ahead of its receive time and still order the state (persist). */
  readonly timestampMarginSeconds: number;
  /** Largest `data` an event may carry, in bytes (as JSON and as DynamoDB encodes it); larger is answered 413. */
  readonly maxPayloadBytes: number;
  /** Whether recordings and voicemails are archived to the stack's S3 media bucket. */
  readonly archiveMedia: boolean;
  /**
   * Origins (`https://host[:port]`, `*.host` for its subdomains) the archive may download from, when set; unset, the
   * archive's built-in Aircall defaults.
   */
  readonly mediaAllowedOrigins?: readonly string[];
  /** Largest recording or voicemail the archive downloads, in bytes. */
  readonly maxMediaBytes: number;
  /** Days after which an archived file moves to a colder storage class, when set; unset, never. */
  readonly mediaColdAfterDays?: number;
  /** Days after which an archived file is deleted, when set (after mediaColdAfterDays); unset, kept forever. */
  readonly mediaExpireAfterDays?: number;
  /** Archive downloads at once, at most. */
  readonly archiveConcurrency: number;
}

type RequiredKey = Exclude<
  keyof StackConfig,
  | 'alarmEmail'
  | 'aircallSecretName'
  | 'aircallSecretKmsKeyArn'
  | 'webhookUrls'
  | 'mediaAllowedOrigins'
  | 'mediaColdAfterDays'
  | 'mediaExpireAfterDays'
>;

export const DEFAULT_CONFIG: Pick<StackConfig, RequiredKey> = {
  stackName: 'AircallWebhookStack',
  webhookPath: '/aircall/webhook',
  ingress: 'http-api',
  ingestReservedConcurrency: INGEST_RESERVED_CONCURRENCY.default,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  eventRetentionDays: 365,
  removalPolicy: 'retain',
  guardianSchedule: 'rate(5 minutes)',
  logRetentionDays: 30,
  tokenCacheSeconds: 60,
  timestampMarginSeconds: DEFAULT_TIMESTAMP_MARGIN_SECONDS,
  maxPayloadBytes: PAYLOAD_CAP.defaultBytes,
  archiveMedia: true,
  maxMediaBytes: MEDIA_SIZE_CAP.defaultBytes,
  archiveConcurrency: ARCHIVE.maxConcurrency,
};

export const CONFIG_KEYS: readonly (keyof StackConfig)[] = [
  ...(Object.keys(DEFAULT_CONFIG) as RequiredKey[]),
  'alarmEmail',
  'aircallSecretName',
  'aircallSecretKmsKeyArn',
  'webhookUrls',
  'mediaAllowedOrigins',
  'mediaColdAfterDays',
  'mediaExpireAfterDays',
];

/** The values CloudWatch Logs accepts as a retention in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The context key naming a JSON config file, and the file read when that key is absent. */
export const CONFIG_FILE_CONTEXT_KEY = 'configFile';
export const DEFAULT_CONFIG_FILE = 'aircall.config.json';

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
// Plain path segments only: no trailing slash, no `{param}` or greedy variables, so the route is exact.
const WEBHOOK_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// A key's ARN, not an alias's: IAM grants kms:Decrypt on the key itself.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Numbers may come as strings, because `cdk -c key=value` passes every value as a string. */
const toNumber = (value: unknown): number | undefined => {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && NUMERIC.test(value.trim())) return Number(value);
  return undefined;
};

/** A list as JSON gives it, or a comma-separated string as `cdk -c webhookUrls=a,b` does; undefined when neither. */
const toUrlList = (value: unknown): readonly string[] | undefined => {
  const urls =
    typeof value === 'string'
      ? splitWebhookUrls(value)
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value.map((v) => v.trim())
        : undefined;
  if (urls === undefined || urls.some((url) => webhookUrlProblem(url) !== undefined)) return undefined;
  return [...new Set(urls)];
};

/** A boolean, or `true`/`false` as `cdk -c archiveMedia=false` passes it. */
const toBoolean = (value: unknown): boolean | undefined => {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
};

/** A non-empty list of origins, as JSON gives it or comma-separated as `cdk -c` does; undefined when bad. */
const toOriginList = (value: unknown): readonly string[] | undefined => {
  const origins =
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '')
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value.map((v) => v.trim())
        : undefined;
  if (origins === undefined || origins.length === 0 || !origins.every(isOriginLike)) return undefined;
  return [...new Set(origins)];
};

const isValidSchedule = (value: string): boolean => {
  const rate = RATE.exec(value);
  if (rate) {
    const amount = Number(rate[1]);
    const unit = rate[2] ?? '';
    // EventBridge wants the singular unit for 1 and the plural otherwise.
    return amount >= 1 && (amount === 1) === !unit.endsWith('s');
  }
  return CRON.test(value);
};

/** Validates raw configuration values (defaults fill what is absent) and names every bad value at once. */
export function parseConfig(raw: Record<string, unknown>): StackConfig {
  const problems: string[] = [];
  const known = new Set<string>(CONFIG_KEYS);
  for (const key of Object.keys(raw)) {
    if (!known.has(key))
      problems.push(`${key} is not a configuration key (known: ${CONFIG_KEYS.join(', ')})`);
  }

  // Each reader returns the valid value, or undefined when the key is absent or bad (and records why).
  const read = <T>(key: keyof StackConfig, rule: string, accept: (value: unknown) => T | undefined) => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    const accepted = accept(value);
    if (accepted === undefined) problems.push(`${key} must be ${rule} (got ${show(value)})`);
    return accepted;
  };
  const text = (key: keyof StackConfig, rule: string, valid: (value: string) => boolean) =>
    read(key, rule, (v) => (typeof v === 'string' && valid(v) ? v : undefined));
  const number = (key: keyof StackConfig, rule: string, valid: (value: number) => boolean) =>
    read(key, rule, (v) => {
      const n = toNumber(v);
      return n !== undefined && valid(n) ? n : undefined;
    });
  const wholeNumber = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

  const alarmEmail = text('alarmEmail', 'an e-mail address', (v) => EMAIL.test(v));
  const aircallSecretName = text(
    'aircallSecretName',
    'a Secrets Manager secret name (1-512 of letters, digits, / _ + = . @ -)',
    (v) => SECRET_NAME.test(v),
  );
  const aircallSecretKmsKeyArn = text(
    'aircallSecretKmsKeyArn',
    'the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>, not an alias)',
    (v) => KMS_KEY_ARN.test(v),
  );
  if (aircallSecretKmsKeyArn !== undefined && aircallSecretName === undefined)
    problems.push('aircallSecretKmsKeyArn is set but aircallSecretName is not: the key encrypts that secret');
  const webhookUrls = read(
    'webhookUrls',
    'a list of https URLs, with no comma, space, credentials or #',
    toUrlList,
  );
  const mediaAllowedOrigins = read(
    'mediaAllowedOrigins',
    'a non-empty list of origins such as https://media.example.com or https://*.example.com (no path)',
    toOriginList,
  );
  const mediaColdAfterDays = number(
    'mediaColdAfterDays',
    'a whole number of days, at least 1',
    wholeNumber(1),
  );
  const mediaExpireAfterDays = number(
    'mediaExpireAfterDays',
    'a whole number of days, at least 1',
    wholeNumber(1),
  );
  if (
    mediaColdAfterDays !== undefined &&
    mediaExpireAfterDays !== undefined &&
    mediaExpireAfterDays <= mediaColdAfterDays
  )
    problems.push(
      `mediaExpireAfterDays (${mediaExpireAfterDays}) must be greater than mediaColdAfterDays (${mediaColdAfterDays})`,
    );
  const ingress = read('ingress', `one of ${INGRESS_KINDS.map((k) => `'${k}'`).join(', ')}`, (v) =>
    INGRESS_KINDS.find((kind) => kind === v),
  );
  const ingestReservedConcurrency = number(
    'ingestReservedConcurrency',
    `a whole number from ${INGEST_RESERVED_CONCURRENCY.min} to ${INGEST_RESERVED_CONCURRENCY.max}`,
    (v) => wholeNumber(INGEST_RESERVED_CONCURRENCY.min)(v) && v <= INGEST_RESERVED_CONCURRENCY.max,
  );
  // A setting the chosen ingress has no use for would be ignored in silence: say so instead.
  if (ingress === 'function-url') {
    for (const key of ['throttlingRateLimit', 'throttlingBurstLimit'] as const)
      if (raw[key] !== undefined && raw[key] !== null)
        problems.push(
          `${key} is set but ingress is 'function-url', which has no stage to throttle: set ingestReservedConcurrency`,
        );
  } else if (ingestReservedConcurrency !== undefined)
    problems.push(
      "ingestReservedConcurrency is set but ingress is not 'function-url': the HTTP API's stage throttles instead",
    );
  const d = DEFAULT_CONFIG;
  const config: StackConfig = {
    stackName: text('stackName', 'a CloudFormation stack name', (v) => STACK_NAME.test(v)) ?? d.stackName,
    webhookPath:
      text(
        'webhookPath',
        'a path like /aircall/webhook (segments of letters, digits, . _ ~ -; no trailing slash)',
        (v) => WEBHOOK_PATH.test(v),
      ) ?? d.webhookPath,
    ingress: ingress ?? d.ingress,
    ingestReservedConcurrency: ingestReservedConcurrency ?? d.ingestReservedConcurrency,
    throttlingRateLimit:
      number('throttlingRateLimit', 'a positive number', (v) => v > 0) ?? d.throttlingRateLimit,
    throttlingBurstLimit:
      number('throttlingBurstLimit', 'a positive integer', wholeNumber(1)) ?? d.throttlingBurstLimit,
    eventRetentionDays:
      number('eventRetentionDays', 'a whole number of days, 0 to keep events forever', wholeNumber(0)) ??
      d.eventRetentionDays,
    removalPolicy:
      read('removalPolicy', "'retain' or 'destroy'", (v) =>
        v === 'retain' || v === 'destroy' ? v : undefined,
      ) ?? d.removalPolicy,
    guardianSchedule:
      text(
        'guardianSchedule',
        'an EventBridge schedule expression such as rate(5 minutes) or cron(0/5 * * * ? *)',
        isValidSchedule,
      ) ?? d.guardianSchedule,
    logRetentionDays:
      number('logRetentionDays', `one of ${LOG_RETENTION_DAYS.join(', ')}`, (v) =>
        (LOG_RETENTION_DAYS as readonly number[]).includes(v),
      ) ?? d.logRetentionDays,
    tokenCacheSeconds:
      number('tokenCacheSeconds', 'a whole number of seconds (0 disables the cache)', wholeNumber(0)) ??
      d.tokenCacheSeconds,
    timestampMarginSeconds:
      number('timestampMarginSeconds', 'a whole number of seconds', wholeNumber(0)) ??
      d.timestampMarginSeconds,
    maxPayloadBytes:
      number(
        'maxPayloadBytes',
        `a whole number of bytes from ${PAYLOAD_CAP.minBytes} to ${PAYLOAD_CAP.maxBytes} (above it a call item can outgrow DynamoDB's 400 KB)`,
        (v) => wholeNumber(PAYLOAD_CAP.minBytes)(v) && v <= PAYLOAD_CAP.maxBytes,
      ) ?? d.maxPayloadBytes,
    archiveMedia: read('archiveMedia', 'true or false', toBoolean) ?? d.archiveMedia,
    maxMediaBytes:
      number(
        'maxMediaBytes',
        `a whole number of bytes from ${MEDIA_SIZE_CAP.minBytes} to ${MEDIA_SIZE_CAP.maxBytes}`,
        (v) => wholeNumber(MEDIA_SIZE_CAP.minBytes)(v) && v <= MEDIA_SIZE_CAP.maxBytes,
      ) ?? d.maxMediaBytes,
    archiveConcurrency:
      number(
        'archiveConcurrency',
        `a whole number from ${ARCHIVE_CONCURRENCY.min} to ${ARCHIVE_CONCURRENCY.max}`,
        (v) => wholeNumber(ARCHIVE_CONCURRENCY.min)(v) && v <= ARCHIVE_CONCURRENCY.max,
      ) ?? d.archiveConcurrency,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
    ...(aircallSecretName === undefined ? {} : { aircallSecretName }),
    ...(aircallSecretKmsKeyArn === undefined ? {} : { aircallSecretKmsKeyArn }),
    ...(webhookUrls === undefined ? {} : { webhookUrls }),
    ...(mediaAllowedOrigins === undefined ? {} : { mediaAllowedOrigins }),
    ...(mediaColdAfterDays === undefined ? {} : { mediaColdAfterDays }),
    ...(mediaExpireAfterDays === undefined ? {} : { mediaExpireAfterDays }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const readConfigFile = (path: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`config file ${path} cannot be read as JSON (${(error as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${path} must hold a JSON object`]);
  }
  return { ...parsed };
};

/**
 * Loads the configuration of an app: the JSON file named by context `configFile` (or `aircall.config.json`
 * in the working directory, when present), overridden key by key by CDK context.
 */
export function loadConfig(scope: IConstruct, cwd: string = process.cwd()): StackConfig {
  const named = scope.node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (named !== undefined && (typeof named !== 'string' || named === '')) {
    throw new ConfigError([`${CONFIG_FILE_CONTEXT_KEY} must be a file path (got ${show(named)})`]);
  }
  const path = resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
  if (named !== undefined && !existsSync(path)) {
    throw new ConfigError([`${CONFIG_FILE_CONTEXT_KEY} ${path} does not exist`]);
  }
  const fromFile = existsSync(path) ? readConfigFile(path) : {};
  // Only the known keys are taken from context: it also carries feature flags and CDK's own settings.
  const fromContext: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value: unknown = scope.node.tryGetContext(key);
    if (value !== undefined) fromContext[key] = value;
  }
  return parseConfig({ ...fromFile, ...fromContext });
}
