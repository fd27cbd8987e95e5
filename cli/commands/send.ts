// `send`: posts webhook payloads from files to the stack, with the token swapped for one it accepts.

import {
  type CliIo,
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  parseCount,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { TargetError, UsageError } from '../errors.js';
import { formatJson, formatSendSummary, progressBar, safeUrl } from '../format.js';
import { allAccepted, collectFiles, loadPayloads, sendAll } from '../sender.js';

// Aircall itself gives up after 5 s; an endpoint slower than twice that is not answering.
const TIMEOUT_MS = 10_000;
// Redraws per second at most: a fast local run would otherwise spend its time painting the bar.
const REDRAW_MS = 100;

/** Checks --url early, before files are read; the URL itself is not echoed, as it may hold a secret. */
const safeUrlOrUsage = (url: string): void => {
  try {
    safeUrl(url);
  } catch (error) {
    throw new UsageError('--url is not a URL', { cause: error });
  }
};

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  url: { type: 'string' },
  token: { type: 'string' },
  concurrency: { type: 'string' },
  repeat: { type: 'string' },
} as const;

const usage = `Usage: ${PROGRAM} send <file|dir>... [--url <url>] [--token <token>|-] [--concurrency <n>] [--repeat <n>] [--json]`;

/** The variable `send` takes the token from when --token is not given: unlike a flag, no process list shows it. */
export const TOKEN_VARIABLE = 'AIRCALL_WEBHOOK_TOKEN';

/** The token the command line names: --token, `--token -` for standard input, or the variable; else undefined. */
const givenToken = async (flag: string | undefined, io: CliIo): Promise<string | undefined> => {
  if (flag === '-') {
    if (io.readStdin === undefined) throw new UsageError('--token - reads standard input, and there is none');
    const token = (await io.readStdin()).trim();
    if (token === '') throw new UsageError('--token - read no token from standard input');
    if (/\s/.test(token))
      throw new UsageError('--token - takes one token on standard input, found several words');
    return token;
  }
  if (flag === '') throw new UsageError('--token needs a token (or - to read it from standard input)');
  if (flag !== undefined) return flag;
  const fromEnvironment = io.env[TOKEN_VARIABLE];
  return fromEnvironment === undefined || fromEnvironment === '' ? undefined : fromEnvironment;
};

export const sendCommand: Command = {
  name: 'send',
  summary: 'post webhook payloads from files to the stack',
  usage,
  help: `${usage}

Posts each JSON payload (for a directory: every *.json in it, by name) as Aircall would, its "token"
field replaced, then prints how many requests got each status. Exits 1 unless every answer is 2xx.

  --url <url>          where to post (default: the local webhook URL, or the stack's WebhookUrl output)
  --token <token>      the token to send (default: $AIRCALL_WEBHOOK_TOKEN, else the local stack's dev
                       token; one of them is required for a deployed stack). It is never printed.
                       A flag shows in the process list: prefer the variable, or \`--token -\`, which
                       reads it from standard input.
  --concurrency <n>    requests in flight at once (default 1: in the order given)
  --repeat <n>         send the whole set n times (default 1)
  --json               the summary as a JSON object on stdout

${TARGET_HELP}
`,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length === 0) throw new UsageError('send needs at least one file or directory');
    const concurrency =
      values.concurrency === undefined ? 1 : parseCount(values.concurrency, '--concurrency', 1);
    const repeat = values.repeat === undefined ? 1 : parseCount(values.repeat, '--repeat', 1);
    const target = targetOptions(values);
    if (values.url !== undefined) safeUrlOrUsage(values.url);
    const payloads = await loadPayloads(await collectFiles(positionals));
    const given = await givenToken(values.token, io);

    // The target is opened only for what the command line leaves out: with both given, no stack is looked up.
    const opened = values.url === undefined || given === undefined ? await open(target) : undefined;
    const url = values.url ?? opened?.webhookUrl;
    const token = given ?? opened?.webhookToken;
    if (url === undefined)
      throw new UsageError(`no webhook URL known for ${opened?.label ?? 'the target'}: pass --url`);
    if (token === undefined && opened?.localEndpoint !== undefined) {
      // A local stack makes its token at its first start in DATA_DIR: none there means none ever started there.
      const lookup = opened.localLookup === undefined ? '' : ` (${opened.localLookup})`;
      throw new TargetError(
        `No dev token known for the ${opened.label}${lookup}: start it with \`npm start\`, which makes one, or give a token (${TOKEN_VARIABLE} or --token)`,
      );
    }
    if (token === undefined) {
      throw new UsageError(
        `no token known for ${opened?.label ?? 'the target'}: give one of the tokens Aircall sends (${TOKEN_VARIABLE} or --token)`,
      );
    }

    let lastDraw = 0;
    const report = await sendAll(payloads, {
      url,
      token,
      concurrency,
      repeat,
      timeoutMs: TIMEOUT_MS,
      ...(io.stderrIsTty
        ? {
            onProgress: (done: number, total: number) => {
              const now = performance.now();
              if (done < total && now - lastDraw < REDRAW_MS) return;
              lastDraw = now;
              io.stderr(`\r${progressBar(done, total)}${done === total ? '\n' : ''}`);
            },
          }
        : {}),
    });
    if (!io.stderrIsTty) {
      io.stderr(
        `Sent ${report.total} webhooks to ${safeUrl(url)} in ${(report.elapsedMs / 1000).toFixed(1)} s.\n`,
      );
    }

    const { statuses, errors } = report;
    io.stdout(
      values.json === true
        ? formatJson({
            url: safeUrl(url),
            sent: report.total,
            statuses,
            errors,
            elapsed_ms: Math.round(report.elapsedMs),
          })
        : formatSendSummary(report),
    );
    if (allAccepted(report)) return 0;
    const refused = Object.keys(report.errors).some((e) => e.startsWith('connection refused'));
    if (refused && values.url === undefined && opened?.localEndpoint !== undefined) {
      const lookup = opened.localLookup === undefined ? '' : ` (${opened.localLookup})`;
      io.stderr(
        `No local stack answers at ${safeUrl(url)}${lookup}: start it with \`npm start\`, or pass --url\n`,
      );
    } else {
      io.stderr('Not every webhook was accepted.\n');
    }
    return 1;
  },
};
