// `numbers`: the Aircall numbers, open or closed.

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
import { formatJson, formatNumbers } from '../format.js';
import { listNumbers } from '../queries.js';
import { requireTable } from '../target.js';

const OPTIONS = { ...TARGET_OPTIONS, ...JSON_OPTION, 'include-deleted': { type: 'boolean' } } as const;

const usage = `Usage: ${PROGRAM} numbers [--include-deleted] [--json]`;

export const numbersCommand: Command = {
  name: 'numbers',
  summary: 'Aircall numbers, open or closed',
  usage,
  help: `${usage}

Every number the stack has heard of, by name: id, name, digits, country, open, availability_status.

  --include-deleted  list deleted numbers too
  --json             a JSON array on stdout

${TARGET_HELP}
`,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('numbers takes no arguments');
    const opened = await open(targetOptions(values));
    const numbers = await listNumbers(
      opened.documents,
      requireTable(opened, 'numbers'),
      values['include-deleted'] === true,
    );
    if (values.json === true) io.stdout(formatJson(numbers));
    else if (numbers.length === 0) io.stderr(`No numbers in ${opened.label}.\n`);
    else io.stdout(formatNumbers(numbers));
    return 0;
  },
};
