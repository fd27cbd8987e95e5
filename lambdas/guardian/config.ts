// The guardian function's settings, read and checked once, when the module-scope handler is first built.

import { AIRCALL_API_URL, ENV } from '../../lib/definitions/pipeline.js';
import { perStateTable, type StateTableName, tableEnvName } from '../../lib/definitions/tables.js';
import { splitWebhookUrls, webhookUrlProblem } from '../../lib/definitions/webhook-urls.js';
import { readEnv } from '../shared/env.js';

export interface GuardianConfig {
  readonly webhooksTable: string;
  readonly secretId: string;
  /** Every URL Aircall may deliver to for this stack; at least one. */
  readonly webhookUrls: readonly string[];
  readonly aircallApiUrl: string;
  /** Where gaps are repaired: the events queue fetched objects go to, and the tables they are checked against. */
  readonly gapRepair?: {
    readonly eventsQueueUrl: string;
    readonly accountsTable: string;
    readonly stateTables: Readonly<Record<StateTableName, string>>;
  };
}

// A URL's user and password never reach a message, even a wrong one's.
const withoutCredentials = (url: string): string => url.replace(/\/\/[^/@]*@/, '//[credentials]@');

/** The URLs of `WEBHOOK_URLS`, or one error naming each that is not an https webhook URL. */
const parseWebhookUrls = (text: string): string[] => {
  const urls = splitWebhookUrls(text);
  const problems = urls.flatMap((url) => {
    const problem = webhookUrlProblem(url);
    return problem === undefined ? [] : [`${withoutCredentials(url)} ${problem}`];
  });
  if (urls.length === 0) problems.push('it holds no URL');
  if (problems.length > 0)
    throw new Error(
      `${ENV.webhookUrls} must be a comma-separated list of https URLs: ${problems.join('; ')}`,
    );
  return urls;
};

export const loadGuardianConfig = (source?: Readonly<Record<string, string | undefined>>): GuardianConfig => {
  const env = readEnv(
    {
      webhooksTable: { name: tableEnvName('webhooks') },
      secretId: { name: ENV.aircallSecretId },
      webhookUrls: { name: ENV.webhookUrls },
      aircallApiUrl: { name: ENV.aircallApiUrl, default: AIRCALL_API_URL },
    },
    source,
  );
  const values = source ?? process.env;
  const eventsQueueUrl = values[ENV.eventsQueueUrl]?.trim() ?? '';
  const accountsTable = values[tableEnvName('accounts')]?.trim() ?? '';
  // Gap repair is on when the stack gives the guardian the events queue and the accounts table, and then every
  // state table must be named too.
  const gapRepair =
    eventsQueueUrl === '' || accountsTable === ''
      ? undefined
      : {
          eventsQueueUrl,
          accountsTable,
          stateTables: readEnv(
            perStateTable((name) => ({ name: tableEnvName(name) })),
            source,
          ),
        };
  return {
    ...env,
    webhookUrls: parseWebhookUrls(env.webhookUrls),
    ...(gapRepair === undefined ? {} : { gapRepair }),
  };
};
