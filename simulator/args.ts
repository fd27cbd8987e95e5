// Command-line options of `npm run simulator`, parsed into startSimulator options.

import { parseArgs } from 'node:util';
import { InvalidOptionsError } from './errors.js';
import { DEFAULT_ACCOUNT, randomCompany, type SimulatorOptions } from './simulator.js';

export interface CommandLine {
  readonly options: SimulatorOptions;
  /** Generated events per second; 0 generates nothing on its own. */
  readonly eventsPerSecond: number;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run simulator -- [options]
  --port <n>             API and delivery port on 127.0.0.1 (default 4000; 0 = any free port)
  --rate <n>             generated events per second (default 5; 0 = none)
  --account <name>       company account (default demo)
  --api-id <id>          its API ID (default: made at random at each start, and printed)
  --api-token <token>    its API token (default: made at random at each start, and printed)
  --access-token <tok>   also accept this OAuth Bearer token
  --allow-remote-delivery
                         let webhooks point at any host; by default only at this machine (127.0.0.1,
                         ::1, localhost), and the API answers 400 to another URL
  --seed <n>             seed of the generated traffic (default 1)
  --rate-limit <n>       API requests per minute per company (default 120)
  --timeout <ms>         delivery timeout (default 5000)
  --deactivate-after <n> consecutive failures before a webhook is deactivated (default 10)
  --retry-delay <ms>     first retry delay (default 1000)
  --duplicate-rate <r>   share of events delivered twice (default 0.02)
  --is-active            answer with "is_active" instead of "active"
  --reset-ms             X-AircallApi-Reset in milliseconds instead of seconds
  --keep-events-on-put   a PUT without "events" keeps them (Aircall may reset them to all)`;

const number = (raw: string | undefined, name: string, fallback: number): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(`--${name} must be a number >= 0, got "${raw}"`);
  }
  return value;
};

export const parseCommandLine = (argv: readonly string[]): CommandLine => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      port: { type: 'string' },
      rate: { type: 'string' },
      account: { type: 'string' },
      'api-id': { type: 'string' },
      'api-token': { type: 'string' },
      'access-token': { type: 'string' },
      seed: { type: 'string' },
      'rate-limit': { type: 'string' },
      timeout: { type: 'string' },
      'deactivate-after': { type: 'string' },
      'retry-delay': { type: 'string' },
      'duplicate-rate': { type: 'string' },
      'is-active': { type: 'boolean' },
      'reset-ms': { type: 'boolean' },
      'keep-events-on-put': { type: 'boolean' },
      'allow-remote-delivery': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const accessToken = values['access-token'];
  const account = values.account ?? DEFAULT_ACCOUNT;
  const made = randomCompany(account);
  return {
    help: values.help ?? false,
    eventsPerSecond: number(values.rate, 'rate', 5),
    options: {
      port: number(values.port, 'port', 4000),
      companies: [
        {
          account,
          apiId: values['api-id'] ?? made.apiId,
          apiToken: values['api-token'] ?? made.apiToken,
          ...(accessToken === undefined ? {} : { accessToken }),
        },
      ],
      seed: number(values.seed, 'seed', 1),
      rateLimitPerMinute: number(values['rate-limit'], 'rate-limit', 120),
      deliveryTimeoutMs: number(values.timeout, 'timeout', 5000),
      deactivateAfterFailures: number(values['deactivate-after'], 'deactivate-after', 10),
      retryDelayMs: number(values['retry-delay'], 'retry-delay', 1000),
      duplicateRate: number(values['duplicate-rate'], 'duplicate-rate', 0.02),
      activeFieldName: values['is-active'] === true ? 'is_active' : 'active',
      resetUnit: values['reset-ms'] === true ? 'milliseconds' : 'seconds',
      resetEventsOnPutWithoutEvents: values['keep-events-on-put'] !== true,
      allowRemoteDelivery: values['allow-remote-delivery'] === true,
    },
  };
};
