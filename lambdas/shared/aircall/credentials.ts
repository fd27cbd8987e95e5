// Parses the Aircall credentials secret for the guardian, the archive, reconcile and the CLI: a JSON list of
// {account, api_id, api_token} or {account, access_token}.

import type { AircallCredentials } from './aircall.js';

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Every problem is named by entry position and field, never by value: the values are secrets. */
export const parseCredentials = (secret: string): AircallCredentials[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw new CredentialsError('the credentials secret is not JSON');
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  const problems: string[] = [];
  const credentials: AircallCredentials[] = [];
  const seen = new Set<string>();
  entries.forEach((entry: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`${where} is not an object`);
      return;
    }
    const fields = entry as Record<string, unknown>;
    const account = text(fields.account);
    const accessToken = text(fields.access_token);
    const apiId = text(fields.api_id);
    const apiToken = text(fields.api_token);
    if (account === undefined) problems.push(`${where} has no "account"`);
    else if (seen.has(account)) problems.push(`${where} repeats account "${account}"`);
    else seen.add(account);
    if (accessToken !== undefined && account !== undefined) credentials.push({ account, accessToken });
    else if (apiId !== undefined && apiToken !== undefined && account !== undefined) {
      credentials.push({ account, apiId, apiToken });
    } else if (accessToken === undefined && (apiId === undefined || apiToken === undefined)) {
      problems.push(`${where} needs "api_id" and "api_token", or "access_token"`);
    }
  });
  if (problems.length > 0) throw new CredentialsError(`invalid Aircall credentials: ${problems.join('; ')}`);
  return credentials;
};

/**
 * One account's credentials from `AIRCALL_ACCESS_TOKEN`, or `AIRCALL_API_ID` and `AIRCALL_API_TOKEN` (flags
 * of the same names first, when given); undefined when neither is complete.
 */
export const credentialsFromEnvironment = (
  account: string,
  env: Readonly<Record<string, string | undefined>>,
  flags: { readonly apiId?: string; readonly apiToken?: string; readonly accessToken?: string } = {},
): AircallCredentials | undefined => {
  const accessToken = text(flags.accessToken) ?? text(env.AIRCALL_ACCESS_TOKEN);
  if (accessToken !== undefined) return { account, accessToken };
  const apiId = text(flags.apiId) ?? text(env.AIRCALL_API_ID);
  const apiToken = text(flags.apiToken) ?? text(env.AIRCALL_API_TOKEN);
  return apiId !== undefined && apiToken !== undefined ? { account, apiId, apiToken } : undefined;
};
