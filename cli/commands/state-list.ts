// Builds the commands that list a small state table (`users`, `numbers`): same options, same shape, own columns.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableName } from '../../lib/definitions/tables.js';
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
import { formatJson } from '../format.js';
import type { Item } from '../queries.js';
import { requireTable } from '../target.js';

export interface StateListSpec {
  readonly name: string;
  readonly table: TableName;
  readonly summary: string;
  /** The paragraph of `--help` that says what is listed. */
  readonly description: string;
  /** What the rows are called in messages, e.g. `users`. */
  readonly noun: string;
  readonly list: (client: DynamoDBDocumentClient, table: string, includeDeleted: boolean) => Promise<Item[]>;
  readonly format: (rows: readonly Item[]) => string;
}

const OPTIONS = { ...TARGET_OPTIONS, ...JSON_OPTION, 'include-deleted': { type: 'boolean' } } as const;

export const stateListCommand = (spec: StateListSpec): Command => {
  const usage = `Usage: ${PROGRAM} ${spec.name} [--include-deleted] [--json]`;
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    help: `${usage}

${spec.description}

  --include-deleted  list deleted ${spec.noun} too
  --json             a JSON array on stdout

${TARGET_HELP}
`,
    async run(args, { io, target: open }) {
      const { values, positionals } = parseCommandArgs(args, OPTIONS);
      if (positionals.length > 0) throw new UsageError(`${spec.name} takes no arguments`);
      const opened = await open(targetOptions(values));
      const rows = await spec.list(
        opened.documents,
        requireTable(opened, spec.table),
        values['include-deleted'] === true,
      );
      if (values.json === true) io.stdout(formatJson(rows));
      else if (rows.length === 0) io.stderr(`No ${spec.noun} in ${opened.label}.\n`);
      else io.stdout(spec.format(rows));
      return 0;
    },
  };
};
