// `calls`: one call by id, or the calls of a user, a number or a time range, optionally only missed ones.

import {
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  parseCount,
  parseId,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { NotFoundError, UsageError } from '../errors.js';
import { formatCall, formatCallList, formatJson } from '../format.js';
import { type CallScope, type CallSelection, getCall, listAccounts, listCalls } from '../queries.js';
import { requireTable } from '../target.js';
import { DEFAULT_RANGE_DAYS, isoSeconds, parseRange, utcDays } from '../time.js';

const DEFAULT_LIMIT = 100;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  user: { type: 'string' },
  number: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  missed: { type: 'boolean' },
  limit: { type: 'string' },
  'newest-first': { type: 'boolean' },
  account: { type: 'string' },
} as const;

const LISTING_FLAGS = ['user', 'number', 'from', 'to', 'missed', 'limit', 'newest-first', 'account'] as const;

const usage = `Usage: ${PROGRAM} calls <id> [--json]
       ${PROGRAM} calls [--account <name>] [--user <id> | --number <id>] [--from <time>] [--to <time>] [--missed] [--limit <n>] [--newest-first] [--json]`;

export const callsCommand: Command = {
  name: 'calls',
  summary: 'one call by id, or the calls of a user, a number or a time range',
  usage,
  help: `${usage}

With an id: that call's summary, and whether its recording and voicemail are archived (fetch them with
\`${PROGRAM} recording\`); with --json the whole item, Aircall's latest data and archive records included.
Without: the calls started in a time range, oldest first.

  --account <name>  one company's calls only: one query per UTC day of that account's
                    partition (index by_account_day); without it, every account the
                    accounts table knows, one query per account and day
  --user <id>       calls of one agent (index by_user)
  --number <id>     calls on one Aircall number (index by_number)
                    neither: every call in the range (index by_account_day)
  --from <time>     start of the range (default: ${DEFAULT_RANGE_DAYS} days before --to)
  --to <time>       end of the range, inclusive (default: now)
                    a time is UNIX seconds, a date (2022-03-04, UTC; as --to, the whole day)
                    or a datetime (2022-03-04T10:30:00Z; UTC unless it carries an offset)
  --missed          missed calls only (index missed_by_account_day); with --user or --number
                    that user's or number's calls are read and the missed ones kept here
  --limit <n>       at most n calls (default ${DEFAULT_LIMIT}; 0 for all)
  --newest-first    newest calls first
  --json            a JSON array (or, with an id, the item) on stdout

${TARGET_HELP}
`,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 1) throw new UsageError('calls takes at most one call id');
    const [idText] = positionals;
    const target = targetOptions(values);

    if (idText !== undefined) {
      const extra = LISTING_FLAGS.filter((flag) => values[flag] !== undefined);
      if (extra.length > 0) {
        throw new UsageError(`a call id cannot be combined with ${extra.map((f) => `--${f}`).join(', ')}`);
      }
      const id = parseId(idText, 'call id');
      const opened = await open(target);
      const call = await getCall(opened.documents, requireTable(opened, 'calls'), id);
      if (call === undefined) throw new NotFoundError(`No call ${id} in ${opened.label}`);
      io.stdout(values.json === true ? formatJson(call) : formatCall(call));
      return 0;
    }

    if (values.user !== undefined && values.number !== undefined) {
      throw new UsageError('give --user or --number, not both');
    }
    const selection: CallSelection =
      values.user !== undefined
        ? { by: 'user', id: parseId(values.user, '--user') }
        : values.number !== undefined
          ? { by: 'number', id: parseId(values.number, '--number') }
          : { by: 'all' };
    const range = parseRange(values.from, values.to, io.now());
    const limit = values.limit === undefined ? DEFAULT_LIMIT : parseCount(values.limit, '--limit', 0);
    // Day-keyed listings refuse an absurd span; finding out before any stack is looked up keeps it a usage error.
    if (selection.by === 'all' || values.missed === true) utcDays(range);

    if (values.account === '') throw new UsageError('--account needs a name');
    const account = values.account;

    const opened = await open(target);
    // A user's or number's index is not keyed by account: the accounts table is read only for a day listing.
    const scope: CallScope =
      account !== undefined
        ? { accounts: [account], only: account }
        : {
            accounts:
              selection.by === 'all'
                ? await listAccounts(opened.documents, requireTable(opened, 'accounts'))
                : [],
          };
    const calls = await listCalls(
      opened.documents,
      requireTable(opened, 'calls'),
      {
        selection,
        range,
        missed: values.missed === true,
        // --limit 0 means all; one more than asked tells whether the listing was cut short.
        limit: limit === 0 ? undefined : limit + 1,
        newestFirst: values['newest-first'] === true,
      },
      scope,
    );
    const shown = limit === 0 ? calls : calls.slice(0, limit);
    const whose = account === undefined ? '' : ` of account ${account}`;
    const none = `No ${values.missed === true ? 'missed ' : ''}calls${whose} started between ${isoSeconds(range.from)} and ${isoSeconds(range.to)}.\n`;
    if (values.json === true) io.stdout(formatJson(shown));
    else if (shown.length === 0) io.stderr(none);
    else io.stdout(formatCallList(shown));
    // On stderr even with --json: a script reading stdout must not take a cut listing for the whole.
    if (calls.length > shown.length) io.stderr(`First ${limit} calls shown; --limit 0 lists them all.\n`);
    return 0;
  },
};
