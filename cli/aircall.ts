// What the commands that call Aircall's Public API share: the account and credential flags, their precedence over
// the environment, and which API URL a target's credentials may be sent to.

import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import { credentialsFromEnvironment } from '../lambdas/shared/aircall/credentials.js';
import { AIRCALL_API_URL } from '../lib/definitions/pipeline.js';
import type { CliIo } from './command.js';
import { UsageError } from './errors.js';
import type { Target } from './target.js';

type Env = CliIo['env'];

/** The flags that name an Aircall account and its credentials. */
export const AIRCALL_OPTIONS = {
  account: { type: 'string' },
  'api-id': { type: 'string' },
  'api-token': { type: 'string' },
  'access-token': { type: 'string' },
  'api-url': { type: 'string' },
} as const;

export interface AircallValues {
  readonly account?: string | undefined;
  readonly 'api-id'?: string | undefined;
  readonly 'api-token'?: string | undefined;
  readonly 'access-token'?: string | undefined;
  readonly 'api-url'?: string | undefined;
}

/** The help lines of AIRCALL_OPTIONS; `account` says what the name is used for by the command. */
export const aircallHelp = (
  account: string,
): string => `Aircall account (flags, or the environment; prefer the environment, flags show in the process list):
  --account <name>        ${account}
                          (AIRCALL_ACCOUNT; required with --stack, "default" locally)
  --api-id, --api-token   Basic credentials (AIRCALL_API_ID, AIRCALL_API_TOKEN)
  --access-token          an OAuth token instead (AIRCALL_ACCESS_TOKEN)
  --api-url <url>         the Public API (default ${AIRCALL_API_URL}; AIRCALL_API_URL is read for
                          the local stack only, so a deployed stack's credentials go nowhere else)`;

/** A flag when given and not empty, else the variable when set and not empty. */
export const pick = (flag: string | undefined, env: string | undefined): string | undefined =>
  flag !== undefined && flag !== '' ? flag : env !== undefined && env !== '' ? env : undefined;

/** The account the command line names (--account, else AIRCALL_ACCOUNT), or undefined. */
export const namedAccount = (values: AircallValues, env: Env): string | undefined =>
  pick(values.account, env.AIRCALL_ACCOUNT);

/** The account's credentials from the flags, else the environment; a usage error when neither is complete. */
export const credentialsOf = (values: AircallValues, env: Env, account: string): AircallCredentials => {
  const credentials = credentialsFromEnvironment(account, env, {
    ...(values['api-id'] === undefined ? {} : { apiId: values['api-id'] }),
    ...(values['api-token'] === undefined ? {} : { apiToken: values['api-token'] }),
    ...(values['access-token'] === undefined ? {} : { accessToken: values['access-token'] }),
  });
  if (credentials === undefined) {
    throw new UsageError(
      'Aircall credentials are needed: AIRCALL_API_ID and AIRCALL_API_TOKEN, or AIRCALL_ACCESS_TOKEN',
    );
  }
  return credentials;
};

export const isDeployed = (target: Pick<Target, 'localEndpoint'>): boolean =>
  target.localEndpoint === undefined;

/** The account name the local stack's rows default to when none is named. */
export const LOCAL_DEFAULT_ACCOUNT = 'default';

/**
 * Refuses a deployed target without a named account: its rows carry the account name, which must be the one the
 * guardian's credentials secret uses, and no default can know it.
 */
export const requireNamedAccount = (
  named: string | undefined,
  target: Pick<Target, 'localEndpoint'>,
): void => {
  if (named === undefined && isDeployed(target)) {
    throw new UsageError(
      'name the account (--account or AIRCALL_ACCOUNT) as the credentials secret names it',
    );
  }
};

/**
 * The Public API the account's credentials are sent to: the flag; AIRCALL_API_URL for the local stack only (the
 * simulator, usually), so one left in the shell never receives a deployed stack's real credentials; else Aircall.
 */
export const apiUrlFor = (
  target: Pick<Target, 'localEndpoint'>,
  flag: string | undefined,
  env: Env,
): string => pick(flag, isDeployed(target) ? undefined : env.AIRCALL_API_URL) ?? AIRCALL_API_URL;
