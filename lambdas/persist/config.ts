// The persist function's settings, read and checked once at init.

import { ENV } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv, toWholeNumber } from '../shared/env.js';
import type { StateTable } from './ports.js';

export interface PersistConfig {
  readonly eventsTable: string;
  readonly stateTables: Readonly<Record<StateTable, string>>;
  readonly retentionDays: number;
}

export const loadPersistConfig = (source?: Readonly<Record<string, string | undefined>>): PersistConfig => {
  const env = readEnv(
    {
      events: { name: tableEnvName('events') },
      calls: { name: tableEnvName('calls') },
      users: { name: tableEnvName('users') },
      numbers: { name: tableEnvName('numbers') },
      contacts: { name: tableEnvName('contacts') },
      retentionDays: { name: ENV.eventRetentionDays, default: '0' },
    },
    source,
  );
  return {
    eventsTable: env.events,
    stateTables: { calls: env.calls, users: env.users, numbers: env.numbers, contacts: env.contacts },
    retentionDays: toWholeNumber(ENV.eventRetentionDays, env.retentionDays),
  };
};
