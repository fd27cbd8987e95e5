// Dispatches a command line to its command and turns every outcome into text on stdout/stderr and an exit code.

import { type CliIo, type Command, PROGRAM, TARGET_HELP } from './command.js';
import { backfillCommand } from './commands/backfill.js';
import { callsCommand } from './commands/calls.js';
import { historyCommand } from './commands/history.js';
import { migrateCommand } from './commands/migrate.js';
import { numbersCommand } from './commands/numbers.js';
import { recordingCommand } from './commands/recording.js';
import { redriveCommand } from './commands/redrive.js';
import { replayCommand } from './commands/replay.js';
import { sendCommand } from './commands/send.js';
import { usersCommand } from './commands/users.js';
import { webhooksCommand } from './commands/webhooks.js';
import { CliError, UsageError } from './errors.js';
import { printable, redactUrls } from './format.js';
import type { Target } from './target.js';

export type { CliIo } from './command.js';

const COMMANDS: readonly Command[] = [
  callsCommand,
  historyCommand,
  recordingCommand,
  usersCommand,
  numbersCommand,
  sendCommand,
  webhooksCommand,
  backfillCommand,
  replayCommand,
  redriveCommand,
  migrateCommand,
];

// The summaries start in one column, two spaces after the longest name.
const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;

const GLOBAL_HELP = `Usage: ${PROGRAM} <command> [options]

Query an aircall-webhook-stack's tables and media archive, send it webhooks, replay its stored events,
move its dead letters back, manage its Aircall webhooks, and copy its tables of an earlier layout into
the new ones: the local stack of \`npm start\` by default, or a deployed one with --stack. replay,
redrive and migrate are safe to repeat: persist stores an event once however often it comes, and
migrate never replaces what is newer.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(NAME_WIDTH)}${c.summary}`).join('\n')}

Every command takes --json (output for scripts: one JSON document on stdout) and --help.

${TARGET_HELP}

Exit codes: 0 done, 1 failed (unknown id, file not archived, unreachable stack, webhook not accepted),
2 bad arguments.
`;

/** Options after `--` are positionals, so only those before it ask for help. */
const asksForHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

const hasCode = (error: unknown, code: string): boolean => {
  if (error instanceof AggregateError && error.errors.some((e) => hasCode(e, code))) return true;
  if (!(error instanceof Error)) return false;
  if ('code' in error && error.code === code) return true;
  return hasCode(error.cause, code);
};

const explain = (
  error: unknown,
  command: Command,
  targets: readonly Target[],
): { message: string; code: number } => {
  if (error instanceof UsageError) {
    return {
      message: `${PROGRAM} ${command.name}: ${error.message}\n${command.usage}\nRun \`${PROGRAM} ${command.name} --help\` for more.`,
      code: error.exitCode,
    };
  }
  if (error instanceof CliError) return { message: error.message, code: error.exitCode };
  const local = targets.find((t) => t.localEndpoint !== undefined);
  if (local?.localEndpoint !== undefined && hasCode(error, 'ECONNREFUSED')) {
    return {
      message: `No local stack answers at ${local.localEndpoint}${local.localLookup === undefined ? '' : ` (${local.localLookup})`}: start it with \`npm start\` (set DATA_DIR to find one started with another), or pass --stack`,
      code: 1,
    };
  }
  const where = targets.length > 0 ? ` (${targets.map((t) => t.label).join(', ')})` : '';
  if (error instanceof Error && error.name === 'ResourceNotFoundException') {
    return { message: `A table is missing${where}: ${error.message}`, code: 1 };
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { message: `${PROGRAM} ${command.name} failed${where}: ${detail}`, code: 1 };
};

/** Runs one command line; resolves to the process's exit code and never throws. */
export const run = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr(GLOBAL_HELP);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === args[0]);
    io.stdout(topic === undefined ? GLOBAL_HELP : topic.help);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`${PROGRAM}: unknown command "${name}"\n\n${GLOBAL_HELP}`);
    return 2;
  }
  if (asksForHelp(args)) {
    io.stdout(command.help);
    return 0;
  }

  const targets: Target[] = [];
  try {
    return await command.run(args, {
      io,
      target: async (options) => {
        const target = await io.resolveTarget(options);
        targets.push(target);
        return target;
      },
    });
  } catch (error) {
    const { message, code } = explain(error, command, targets);
    // Messages quote what came from elsewhere (a server's error, a value given): no escape sequence and no URL's
    // secret reaches the terminal, line by line so the message keeps its shape.
    io.stderr(
      `${message
        .split('\n')
        .map((line) => printable(redactUrls(line)))
        .join('\n')}\n`,
    );
    return code;
  } finally {
    for (const target of targets) target.close();
  }
};
