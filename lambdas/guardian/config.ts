// The guardian function's settings, read and checked once at init.

import { AIRCALL_API_URL, ENV } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import { readEnv } from '../shared/env.js';

export interface GuardianConfig {
  readonly webhooksTable: string;
  readonly secretId: string;
  readonly webhookUrl: string;
  readonly aircallApiUrl: string;
}

export const loadGuardianConfig = (source?: Readonly<Record<string, string | undefined>>): GuardianConfig =>
  readEnv(
    {
      webhooksTable: { name: tableEnvName('webhooks') },
      secretId: { name: ENV.aircallSecretId },
      webhookUrl: { name: ENV.webhookUrl },
      aircallApiUrl: { name: ENV.aircallApiUrl, default: AIRCALL_API_URL },
    },
    source,
  );
