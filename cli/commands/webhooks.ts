// `webhooks`: manage an Aircall account's webhooks, and run one guardian pass, against the stack's token registry.

import { DynamoWebhookRegistry } from '../../lambdas/guardian/dynamo-registry.js';
import {
  type AccountReport,
  guardAccount,
  needsAttention,
  sameUrl,
  snapshotOf,
} from '../../lambdas/guardian/guardian.js';
import type { AircallWebhook } from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { hashToken } from '../../lambdas/shared/token.js';
import {
  AIRCALL_OPTIONS,
  aircallHelp,
  apiUrlFor,
  credentialsOf,
  isDeployed,
  LOCAL_DEFAULT_ACCOUNT,
  namedAccount,
  pick,
  requireNamedAccount,
} from '../aircall.js';
import {
  type Command,
  type CommandContext,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { UsageError } from '../errors.js';
import { cell, formatJson, formatTable, printable, redactUrls } from '../format.js';
import { requireTable, type Target } from '../target.js';

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  ...AIRCALL_OPTIONS,
  'webhook-url': { type: 'string' },
  name: { type: 'string' },
  events: { type: 'string' },
  all: { type: 'boolean' },
} as const;

const usage = `Usage: ${PROGRAM} webhooks <list|create|delete|reenable> [options]`;

const help = `${usage}

Manage the webhooks of one Aircall account, keeping this stack's token registry in step.

  list [--all]                        the account's webhooks that point at this stack (--all: every one)
  create [--name N] [--events a,b]    create a webhook to this stack (default: all events) and register
                                      its token's SHA-256 in the stack's registry
  delete <webhook id>                 delete it at Aircall and drop its registry row
  reenable                            one guardian pass: register every webhook that points here and
                                      re-enable the deactivated ones with their event list unchanged;
                                      exits 1 if one stays inactive

${aircallHelp("the name rows are registered under, as in the guardian's credentials secret")}
  --webhook-url <url>     the one webhook URL to create at, list or guard (default: a deployed stack's
                          WebhookUrls output; locally WEBHOOK_URL, then the local stack's URL)

--stack always wins over the environment: a WEBHOOK_URL or AIRCALL_API_URL left in the shell for the
local stack is not used against a deployed one.
  --json                  JSON on stdout

${TARGET_HELP}
`;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/**
 * The webhook URLs the command works with, the first one the URL `create` uses: the flag; else a deployed stack's
 * own (its outputs), which no variable overrides, and without outputs none; for the local stack WEBHOOK_URL (a
 * tunnel in front of it, as `npm start` reads it), else its own URL.
 */
const stackUrlsOf = (
  values: Values,
  env: CommandContext['io']['env'],
  target: Target,
): readonly [string, ...string[]] => {
  const flag = pick(values['webhook-url'], undefined);
  if (flag !== undefined) return [flag];
  const [first, ...rest] = target.webhookUrls ?? (target.webhookUrl === undefined ? [] : [target.webhookUrl]);
  if (isDeployed(target)) {
    if (first !== undefined) return [first, ...rest];
    // A deployed target named by --region alone has no outputs; a tunnel left in WEBHOOK_URL is not its URL.
    throw new UsageError("this stack's webhook URL is unknown: pass --stack or --webhook-url");
  }
  const fromEnv = pick(undefined, env.WEBHOOK_URL);
  if (fromEnv !== undefined) return [fromEnv];
  if (first !== undefined) return [first, ...rest];
  throw new UsageError("this stack's webhook URL is unknown: pass --webhook-url or set WEBHOOK_URL");
};

/** What a listing shows of a webhook: never its token. */
const shown = (webhook: AircallWebhook, stackUrls: readonly string[]) => ({
  webhook_id: webhook.webhookId,
  name: webhook.customName,
  active: webhook.active,
  points_here: stackUrls.some((url) => sameUrl(webhook.url, url)),
  events: webhook.events,
  url: webhook.url,
});

type Shown = ReturnType<typeof shown>;

const formatWebhooks = (rows: readonly Shown[]): string =>
  formatTable<Shown>(
    [
      { header: 'webhook_id', value: (r) => r.webhook_id },
      { header: 'name', value: (r) => r.name },
      { header: 'active', value: (r) => cell(r.active) },
      { header: 'here', value: (r) => (r.points_here ? 'yes' : 'no') },
      {
        header: 'events',
        value: (r) => (r.events.length > 4 ? `${r.events.length} events` : r.events.join(', ')),
      },
      { header: 'url', value: (r) => redactUrls(r.url) },
    ],
    rows,
  );

/** Names, details and errors come from Aircall: every line is shown without control characters or URL secrets. */
const formatReport = (report: AccountReport): string => safeLines(reportLines(report));

const safeLines = (text: string): string =>
  `${text
    .trimEnd()
    .split('\n')
    .map((line) => printable(redactUrls(line)))
    .join('\n')}\n`;

const reportLines = (report: AccountReport): string => {
  if (!report.listed)
    return `Account ${report.account}: could not list its webhooks: ${report.error ?? 'unknown error'}\n`;
  const lines = report.webhooks.map(
    (w) => `  ${w.webhookId}  ${w.customName}: ${w.action}${w.detail === undefined ? '' : ` (${w.detail})`}`,
  );
  const missing = report.missing.map(
    (m) => `  ${m.webhookId}: not listed ${m.passes} time(s) in a row; its token stays registered for now`,
  );
  const removed = report.removed.map(
    (id) => `  ${id}: no longer points here; its token was removed from the registry`,
  );
  const incomplete =
    report.incomplete === undefined
      ? []
      : [`  listing not complete, so no absence counted: ${report.incomplete}`];
  const found = `Account ${report.account}: ${report.webhooks.length} webhook(s) point at this stack`;
  return `${[found, ...lines, ...missing, ...removed, ...incomplete].join('\n')}\n`;
};

export const webhooksCommand: Command = {
  name: 'webhooks',
  summary: 'manage Aircall webhooks and re-enable deactivated ones',
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === undefined) throw new UsageError('which action: list, create, delete or reenable?');
    const named = namedAccount(values, io.env);
    const credentials = credentialsOf(values, io.env, named ?? LOCAL_DEFAULT_ACCOUNT);
    const target = await open(targetOptions(values));
    requireNamedAccount(named, target);
    // Built once the target is known: which API URL applies depends on it.
    const api = new AircallClient({ credentials, baseUrl: apiUrlFor(target, values['api-url'], io.env) });
    const stackUrls = stackUrlsOf(values, io.env, target);
    const [stackUrl] = stackUrls;
    const registry = new DynamoWebhookRegistry(target.documents, requireTable(target, 'webhooks'));
    const now = () => io.now().getTime();

    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError('list takes no arguments');
        const rows = (await api.listWebhooks()).webhooks
          .map((webhook) => shown(webhook, stackUrls))
          .filter((row) => values.all === true || row.points_here);
        if (values.json === true) io.stdout(formatJson(rows));
        else if (rows.length === 0)
          io.stderr(
            `${printable(`No webhook of account ${credentials.account} points at ${redactUrls(stackUrls.join(' or '))}.`)}\n`,
          );
        else io.stdout(formatWebhooks(rows));
        return 0;
      }
      case 'create': {
        if (rest.length > 0) throw new UsageError('create takes no arguments');
        const events = values.events
          ?.split(',')
          .map((event) => event.trim())
          .filter((event) => event !== '');
        const webhook = await api.createWebhook({
          url: stackUrl,
          ...(values.name === undefined ? {} : { customName: values.name }),
          ...(events === undefined ? {} : { events }),
        });
        await registry.upsert(snapshotOf(credentials.account, webhook, now()));
        const row = shown(webhook, stackUrls);
        if (values.json === true) io.stdout(formatJson(row));
        else
          io.stdout(
            `${printable(`Created ${webhook.webhookId} and registered its token in ${target.label}.`)}\n${formatWebhooks([row])}`,
          );
        return 0;
      }
      case 'delete': {
        const [webhookId, ...extra] = rest;
        if (webhookId === undefined || extra.length > 0) throw new UsageError('delete takes one webhook id');
        const webhook = await api.getWebhook(webhookId);
        await api.deleteWebhook(webhookId);
        await registry.remove(hashToken(webhook.token));
        if (values.json === true) io.stdout(formatJson({ deleted: webhookId }));
        else io.stdout(`Deleted ${webhookId} at Aircall and removed its token from ${target.label}.\n`);
        return 0;
      }
      case 'reenable': {
        if (rest.length > 0) throw new UsageError('reenable takes no arguments');
        // With --webhook-url the pass knows one URL of the stack, not all: it re-enables, and counts no absence.
        const countAbsences = values['webhook-url'] === undefined;
        const report = await guardAccount(credentials.account, {
          api,
          registry,
          stackUrls,
          now,
          countAbsences,
        });
        if (values.json === true) io.stdout(formatJson(report));
        else io.stdout(formatReport(report));
        return needsAttention([report]) ? 1 : 0;
      }
      default:
        throw new UsageError(`unknown action "${action}": list, create, delete or reenable`);
    }
  },
};
