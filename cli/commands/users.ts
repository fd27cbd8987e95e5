// `users`: the agents and their current availability.

import {
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { UsageError } from '../errors.js';
import { formatJson, formatUsers } from '../format.js';
import { listUsers } from '../queries.js';
import { requireTable } from '../target.js';

const OPTIONS = { ...TARGET_OPTIONS, ...JSON_OPTION, 'include-deleted': { type: 'boolean' } } as const;

const usage = `Usage: ${PROGRAM} users [--include-deleted] [--json]`;

export const usersCommand: Command = {
  name: 'users',
  summary: 'agents and their current availability',
  usage,
  help: `${usage}

Every agent the stack has heard of, by name: id, name, email, available, availability_status, and the
last event that changed them.

  --include-deleted  list deleted users too
  --json             a JSON array on stdout

${TARGET_HELP}
`,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('users takes no arguments');
    const opened = await open(targetOptions(values));
    const users = await listUsers(
      opened.documents,
      requireTable(opened, 'users'),
      values['include-deleted'] === true,
    );
    if (values.json === true) io.stdout(formatJson(users));
    else if (users.length === 0) io.stderr(`No users in ${opened.label}.\n`);
    else io.stdout(formatUsers(users));
    return 0;
  },
};
