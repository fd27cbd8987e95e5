// The persist function's settings, read and checked once, when the module-scope handler is first built.

import { DEFAULT_TIMESTAMP_MARGIN_SECONDS, ENV } from '../../lib/definitions/pipeline.js';
import { perStateTable, type StateTableName, tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv, toWholeNumber } from '../shared/env.js';

export interface PersistConfig {
  readonly eventsTable: string;
  readonly stateTables: Readonly<Record<StateTableName, string>>;
  readonly retentionDays: number;
  readonly timestampMarginSeconds: number;
  /** Where a record that can never be stored goes at once. */
  readonly deadLetterQueueUrl: string;
  /** Where recordings and voicemails are handed to the archive; absent when the stack archives none. */
  readonly mediaQueueUrl: string | undefined;
  /** Where each account's latest event is noted; absent, nothing is. */
  readonly accountsTable: string | undefined;
}

export const loadPersistConfig = (source?: Readonly<Record<string, string | undefined>>): PersistConfig => {
  const env = readEnv(
    {
      events: { name: tableEnvName('events') },
      ...perStateTable((name) => ({ name: tableEnvName(name) })),
      retentionDays: { name: ENV.eventRetentionDays, default: '0' },
      timestampMarginSeconds: {
        name: ENV.timestampMarginSeconds,
        default: String(DEFAULT_TIMESTAMP_MARGIN_SECONDS),
      },
      deadLetterQueueUrl: { name: ENV.deadLetterQueueUrl },
    },
    source,
  );
  // Optional, so read beside readEnv, which counts an empty value as missing.
  const mediaQueueUrl = (source ?? process.env)[ENV.mediaQueueUrl]?.trim() ?? '';
  const accountsTable = (source ?? process.env)[tableEnvName('accounts')]?.trim() ?? '';
  return {
    eventsTable: env.events,
    stateTables: perStateTable((name) => env[name]),
    retentionDays: toWholeNumber(ENV.eventRetentionDays, env.retentionDays),
    timestampMarginSeconds: toWholeNumber(ENV.timestampMarginSeconds, env.timestampMarginSeconds),
    deadLetterQueueUrl: env.deadLetterQueueUrl,
    mediaQueueUrl: mediaQueueUrl === '' ? undefined : mediaQueueUrl,
    accountsTable: accountsTable === '' ? undefined : accountsTable,
  };
};
