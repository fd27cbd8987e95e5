// `history <call id>`: every event stored for one call, in the order they happened.

import {
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  parseId,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { NotFoundError, UsageError } from '../errors.js';
import { formatHistory, formatJson } from '../format.js';
import { callHistory } from '../queries.js';
import { requireTable } from '../target.js';

const OPTIONS = { ...TARGET_OPTIONS, ...JSON_OPTION } as const;

const usage = `Usage: ${PROGRAM} history <call id> [--json]`;

export const historyCommand: Command = {
  name: 'history',
  summary: "a call's events in order",
  usage,
  help: `${usage}

The call's events as received, deduplicated, ordered by Aircall's timestamp and then by their place in
the call's lifecycle: time, event, when the stack received it, resource. Only the events of the account the
call belongs to are shown; how many other accounts sent for the same id is said on stderr.

  --json            a JSON array of the stored events, payloads included

${TARGET_HELP}
`,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [idText, ...rest] = positionals;
    if (idText === undefined || rest.length > 0) throw new UsageError('history takes exactly one call id');
    const id = parseId(idText, 'call id');
    const target = targetOptions(values);

    const opened = await open(target);
    const tables = { calls: requireTable(opened, 'calls'), events: requireTable(opened, 'events') };
    const history = await callHistory(opened.documents, tables, id);
    if (history === undefined) throw new NotFoundError(`No call ${id} in ${opened.label}`);
    const { events, fromOtherAccounts } = history;
    if (values.json === true) io.stdout(formatJson(events));
    else if (events.length === 0) io.stderr(`Call ${id} is stored but none of its events are left.\n`);
    else io.stdout(formatHistory(events));
    if (fromOtherAccounts > 0)
      io.stderr(
        `${fromOtherAccounts} event(s) another account sent for call ${id} are left out: the call belongs to its own account.\n`,
      );
    return 0;
  },
};
