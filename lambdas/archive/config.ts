// The archive function's settings, read and checked once, when the module-scope handler is first built.

import { ARCHIVE, ARCHIVE_ENV, MEDIA_SIZE_CAP } from '../../lib/definitions/archive.js';
import { AIRCALL_API_URL, ENV } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv, toWholeNumber } from '../shared/env.js';
import { type AllowList, DEFAULT_ALLOWED_ORIGINS, parseAllowedOrigins } from './allowed-origins.js';

export { ARCHIVE_ENV };

/**
 * Seconds a job holds the lease on the file it downloads: a minute beyond the function's timeout, so that no live
 * attempt outlasts it, and far below the media queue's visibility timeout, so that the retry of an attempt that died
 * finds it run out.
 */
export const ARCHIVE_LEASE_SECONDS = ARCHIVE.timeoutSeconds + 60;

/** The configuration's default, so a function started without the variable archives what the stack would. */
export const DEFAULT_MEDIA_MAX_BYTES = MEDIA_SIZE_CAP.defaultBytes;

export interface ArchiveConfig {
  readonly bucketName: string;
  readonly callsTable: string;
  readonly deadLetterQueueUrl: string;
  readonly allowList: AllowList;
  readonly maxBytes: number;
  /** The Secrets Manager secret of Aircall credentials; absent, an expired link cannot be refreshed. */
  readonly aircallSecretId: string | undefined;
  readonly aircallApiUrl: string;
}

export const loadArchiveConfig = (
  source: Readonly<Record<string, string | undefined>> = process.env,
): ArchiveConfig => {
  const env = readEnv(
    {
      bucketName: { name: ARCHIVE_ENV.mediaBucket },
      callsTable: { name: tableEnvName('calls') },
      deadLetterQueueUrl: { name: ARCHIVE_ENV.mediaDeadLetterQueueUrl },
      maxBytes: { name: ARCHIVE_ENV.mediaMaxBytes, default: String(DEFAULT_MEDIA_MAX_BYTES) },
      aircallApiUrl: { name: ENV.aircallApiUrl, default: AIRCALL_API_URL },
    },
    source,
  );
  // Optional, so read beside readEnv, which counts an empty value as missing.
  const origins = source[ARCHIVE_ENV.allowedOrigins]?.trim() ?? '';
  const secretId = source[ENV.aircallSecretId]?.trim() ?? '';
  const maxBytes = toWholeNumber(ARCHIVE_ENV.mediaMaxBytes, env.maxBytes);
  if (maxBytes === 0) throw new Error(`${ARCHIVE_ENV.mediaMaxBytes} must be above 0`);
  return {
    bucketName: env.bucketName,
    callsTable: env.callsTable,
    deadLetterQueueUrl: env.deadLetterQueueUrl,
    allowList: origins === '' ? DEFAULT_ALLOWED_ORIGINS : parseAllowedOrigins(origins),
    maxBytes,
    aircallSecretId: secretId === '' ? undefined : secretId,
    aircallApiUrl: env.aircallApiUrl,
  };
};
