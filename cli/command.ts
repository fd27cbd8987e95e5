// What every command shares: the I/O it writes through, the target it opens, and strict argument parsing.

import type { Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { parseTableOverrides, type ResolveTarget, type Target, type TargetOptions } from './target.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export const PROGRAM = 'aircall-webhook-stack';

/** Standard output as a stream of bytes, for a file's content rather than text. */
export interface ByteOutput {
  /** Written with backpressure and never ended: the process owns it. */
  readonly stream: Writable;
  /** Bytes of a recording would garble a terminal, so none are written to one. */
  readonly isTty: boolean;
}

/** Everything a run touches outside itself, so that a test can hand in its own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** A progress bar redraws itself only on a terminal; elsewhere it would fill a log with carriage returns. */
  readonly stderrIsTty: boolean;
  /** Standard output for bytes; absent where a run has none, and then a file goes to --output only. */
  readonly stdoutBytes?: ByteOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads standard input to its end, for a secret passed there (`send --token -`); absent where there is none. */
  readonly readStdin?: () => Promise<string>;
  readonly now: () => Date;
  readonly resolveTarget: ResolveTarget;
}

export interface CommandContext {
  readonly io: CliIo;
  /** Resolves the target; the runner closes it and explains a local stack that does not answer. */
  target(options: TargetOptions): Promise<Target>;
}

export interface Command {
  readonly name: string;
  /** One line for the global help. */
  readonly summary: string;
  /** The synopsis shown under a usage error. */
  readonly usage: string;
  /** The full text of `<command> --help`. */
  readonly help: string;
  /** Resolves to the exit code; throws a CliError for anything the user should read. */
  run(args: readonly string[], context: CommandContext): Promise<number>;
}

/** Options every command that reads the tables accepts. */
export const TARGET_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  table: { type: 'string', multiple: true },
} as const satisfies OptionsConfig;

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies OptionsConfig;

export const TARGET_HELP = `Target (default: the local stack of \`npm start\`, found through PORT, DYNAMODB_PORT and WEBHOOK_PATH):
  --stack <name>          a deployed stack, read through its CloudFormation outputs
  --region <region>       its region (default: the AWS SDK's, e.g. AWS_REGION); alone, with --table, a
                          deployed stack's tables named by hand
  --table <table>=<name>  a table's physical name, e.g. --table calls=prod-calls (repeatable)`;

const isParseArgsError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error &&
  'code' in error &&
  typeof error.code === 'string' &&
  error.code.startsWith('ERR_PARSE_ARGS');

/** node:util parseArgs in strict mode, its complaints turned into usage errors. */
export const parseCommandArgs = <const O extends OptionsConfig>(args: readonly string[], options: O) => {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    if (isParseArgsError(error)) throw new UsageError(error.message, { cause: error });
    throw error;
  }
};

export const targetOptions = (values: {
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly table?: readonly string[] | undefined;
}): TargetOptions => ({
  ...(values.stack === undefined ? {} : { stack: values.stack }),
  ...(values.region === undefined ? {} : { region: values.region }),
  tables: parseTableOverrides(values.table ?? []),
});

/** An Aircall id as the tables key it: a whole number. */
export const parseId = (text: string, what: string): number => {
  if (!/^\d{1,15}$/.test(text)) throw new UsageError(`${what} must be a number, got "${text}"`);
  return Number(text);
};

/** A whole number of at least `min`, for counts like --limit and --concurrency. */
export const parseCount = (text: string, flag: string, min: number): number => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be a whole number of at least ${min}, got "${text}"`);
  }
  return value;
};
