// `redrive`: move the messages of a dead-letter queue back to the queue they came from, the events' or the media
// jobs', by SQS's own move task on AWS and by hand on the embedded SQS, which has none.

import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import {
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
import { formatFields, formatJson, progressBar, safeUrl } from '../format.js';
import { progressLine } from '../progress.js';
import {
  type DeadLetter,
  type HandMove,
  type MoveTasks,
  type QueuePairUrls,
  type RedriveQueue,
  sqsHandMove,
  sqsMoveTasks,
} from '../queue.js';
import type { Target } from '../target.js';

// How often a move task is asked how far it got: its counts are approximate and lag by seconds anyway.
const POLL_MS = 2_000;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  media: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

const usage = `Usage: ${PROGRAM} redrive [--media] [--limit <n>] [--json]`;

const help = `${usage}

Moves the messages of a dead-letter queue back to the queue they came from: the events persist could
not store back to the events queue, or, with --media, the media jobs the archive could not complete
back to the media queue. Fix the cause first (see the README's Operations); a message that fails
again goes back to the dead-letter queue.

Safe to repeat: persist stores an event once however often it arrives, and the archive downloads a
file once; a second run over an empty dead-letter queue moves nothing.

On a deployed stack (--stack) SQS moves them itself (StartMessageMoveTask), and this waits for the
task to end, showing how many it moved. On the local stack, whose SQS has no move task, each message
is received, sent to the queue with its body and attributes (without the failure_reason and failed_at
the dead-letter path added), and deleted from the dead-letter queue only once it was sent.

  --media        the media dead-letter queue rather than the events'
  --limit <n>    move at most n messages, one by one as on the local stack, also on a deployed one
                 (default: all of them)
  --json         the summary as a JSON object on stdout

Exits 1 when a message could not be sent (it stays in the dead-letter queue) or the move task failed.

${TARGET_HELP}
  The queues are the local stack's, or a deployed stack's EventsQueueUrl and DeadLetterQueueUrl
  (with --media, MediaQueueUrl and MediaDeadLetterQueueUrl) outputs.
`;

/** The attributes a message goes back with: its own, without what the dead-letter path added. */
export const withoutDeadLetterAttributes = (
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): Record<string, MessageAttributeValue> => {
  const added = new Set<string>(Object.values(DEAD_LETTER_ATTRIBUTES));
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => !added.has(name)));
};

export interface RedriveProgress {
  readonly moved: number;
  /** What there is to move, as far as SQS knows it; never below `moved`. */
  readonly total: number;
}

export interface RedriveReport {
  readonly method: 'by-hand' | 'move-task';
  readonly moved: number;
  /** Messages still in the dead-letter queue at the end, as SQS counts them. */
  readonly left: number;
  /** Messages SQS refused to send, by error code; they stay in the dead-letter queue. */
  readonly notSent: Readonly<Record<string, number>>;
  /** Messages sent but not deleted from the dead-letter queue: a next run sends them again, which is harmless. */
  readonly notDeleted: number;
  /** How the move task ended; absent for a move by hand. */
  readonly status?: string;
  readonly failureReason?: string;
}

/**
 * Moves up to `limit` messages by hand, ten at a time: receive, send back, then delete only those SQS took. It stops
 * at the first refusal rather than receive the refused message again and again.
 */
export const moveByHand = async (
  queue: HandMove,
  options: { readonly limit: number | undefined; readonly onProgress?: (progress: RedriveProgress) => void },
): Promise<RedriveReport> => {
  const { limit } = options;
  const waiting = await queue.waiting();
  const expected = limit === undefined ? waiting : Math.min(limit, waiting);
  let moved = 0;
  let notDeleted = 0;
  const notSent: Record<string, number> = {};
  options.onProgress?.({ moved, total: expected });
  for (;;) {
    const room = limit === undefined ? 10 : Math.min(10, limit - moved);
    if (room <= 0) break;
    const letters = await queue.receive(room);
    if (letters.length === 0) break;
    const outcome = await queue.send(
      letters.map((letter) => ({
        id: letter.id,
        body: letter.body,
        attributes: withoutDeadLetterAttributes(letter.attributes),
      })),
    );
    const sent = new Set(outcome.sent);
    const done: DeadLetter[] = letters.filter((letter) => sent.has(letter.id));
    if (done.length > 0) notDeleted += (await queue.delete(done)).length;
    moved += done.length;
    options.onProgress?.({ moved, total: Math.max(expected, moved) });
    for (const { code } of outcome.failed) notSent[code] = (notSent[code] ?? 0) + 1;
    if (outcome.failed.length > 0 || done.length < letters.length) break;
  }
  return { method: 'by-hand', moved, left: await queue.waiting(), notSent, notDeleted };
};

const ENDED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** Starts SQS's move task and follows it until it ends; an empty dead-letter queue starts none. */
export const moveWithTask = async (
  tasks: MoveTasks,
  options: {
    readonly sleep: (ms: number) => Promise<void>;
    readonly onProgress?: (progress: RedriveProgress) => void;
  },
): Promise<RedriveReport> => {
  const waiting = await tasks.waiting();
  const none = { method: 'move-task', notSent: {}, notDeleted: 0 } as const;
  if (waiting === 0) return { ...none, moved: 0, left: 0, status: 'NOTHING_TO_MOVE' };
  await tasks.start();
  options.onProgress?.({ moved: 0, total: waiting });
  for (;;) {
    const task = await tasks.latest();
    if (task !== undefined) {
      const total = Math.max(task.toMove ?? waiting, task.moved);
      options.onProgress?.({ moved: task.moved, total });
      if (ENDED.has(task.status)) {
        return {
          ...none,
          moved: task.moved,
          left: await tasks.waiting(),
          status: task.status,
          ...(task.failureReason === undefined ? {} : { failureReason: task.failureReason }),
        };
      }
    }
    await options.sleep(POLL_MS);
  }
};

const NAMES: Readonly<Record<RedriveQueue, { readonly queue: string; readonly deadLetterQueue: string }>> = {
  events: { queue: 'events queue', deadLetterQueue: 'events dead-letter queue' },
  media: { queue: 'media queue', deadLetterQueue: 'media dead-letter queue' },
};

const OUTPUTS: Readonly<Record<RedriveQueue, string>> = {
  events: 'EventsQueueUrl and DeadLetterQueueUrl',
  media: 'MediaQueueUrl and MediaDeadLetterQueueUrl',
};

/** The target's queues and the URLs of the pair asked for, or an error telling which outputs name them. */
const requirePair = async (target: Target, which: RedriveQueue) => {
  const queues = target.deadLetters;
  const urls = queues?.urls(which);
  if (queues === undefined || urls === undefined)
    throw new TargetError(
      `No ${NAMES[which].deadLetterQueue} known for ${target.label}: pass --stack, whose ${OUTPUTS[which]} outputs name it and its queue`,
    );
  return { queues, urls: await urls };
};

const notSentCount = (report: RedriveReport): number =>
  Object.values(report.notSent).reduce((total, count) => total + count, 0);

export interface RedriveContext {
  readonly which: RedriveQueue;
  readonly urls: QueuePairUrls;
  readonly label: string;
}

/** The summary as --json prints it. */
export const redriveJson = (report: RedriveReport, context: RedriveContext) => ({
  queue: context.which,
  dead_letter_queue_url: safeUrl(context.urls.deadLetterQueueUrl),
  queue_url: safeUrl(context.urls.queueUrl),
  method: report.method,
  moved: report.moved,
  left: report.left,
  not_sent: report.notSent,
  not_deleted: report.notDeleted,
  ...(report.status === undefined ? {} : { status: report.status }),
  ...(report.failureReason === undefined ? {} : { failure_reason: report.failureReason }),
});

/** The summary as a person reads it. */
export const formatRedriveSummary = (report: RedriveReport, context: RedriveContext): string => {
  const names = NAMES[context.which];
  const how = report.method === 'move-task' ? 'by an SQS move task' : 'by hand';
  const fields: [string, string][] = [
    ['moved', String(report.moved)],
    ['left', `${report.left}${report.left > 0 ? ' (still in the dead-letter queue)' : ''}`],
  ];
  const notSent = Object.entries(report.notSent);
  if (notSent.length > 0)
    fields.push([
      'not sent',
      `${notSentCount(report)} (${notSent.map(([code, count]) => `${code}: ${count}`).join(', ')}), left in the dead-letter queue`,
    ]);
  if (report.notDeleted > 0)
    fields.push(['not deleted', `${report.notDeleted} (sent, and sent again by the next run: harmless)`]);
  if (report.status !== undefined) fields.push(['task', report.status]);
  if (report.failureReason !== undefined) fields.push(['failure', report.failureReason]);
  return `Redrive of the ${names.deadLetterQueue} into the ${names.queue} of ${context.label}, ${how}\n${formatFields(fields)}`;
};

/** A move that did not take everything it set out to: some message refused, or the task not completed. */
const failed = (report: RedriveReport): boolean =>
  notSentCount(report) > 0 ||
  (report.status !== undefined && report.status !== 'COMPLETED' && report.status !== 'NOTHING_TO_MOVE');

export const redriveCommand: Command = {
  name: 'redrive',
  summary: "move a dead-letter queue's messages back to their queue (--media: the media jobs')",
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length > 0) throw new UsageError('redrive takes no arguments');
    const limit = values.limit === undefined ? undefined : parseCount(values.limit, '--limit', 1);
    const which: RedriveQueue = values.media === true ? 'media' : 'events';
    const target = await open(targetOptions(values));
    const { queues, urls } = await requirePair(target, which);

    const line = progressLine(io);
    const onProgress = ({ moved, total }: RedriveProgress): void =>
      line.draw(`${progressBar(moved, total)} moved`, moved === total);
    let report: RedriveReport;
    try {
      report =
        queues.moveTasks && limit === undefined
          ? await moveWithTask(sqsMoveTasks(queues.client(), urls), {
              sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
              onProgress,
            })
          : await moveByHand(sqsHandMove(queues.client(), urls), { limit, onProgress });
    } finally {
      line.end();
    }
    const context = { which, urls, label: target.label };
    io.stdout(
      values.json === true ? formatJson(redriveJson(report, context)) : formatRedriveSummary(report, context),
    );
    if (!failed(report)) return 0;
    io.stderr(
      report.method === 'move-task'
        ? `The move task ended ${report.status ?? 'unknown'}: what it did not move is still in the dead-letter queue.\n`
        : 'Not every message could be sent back: those are still in the dead-letter queue; run it again once the cause is fixed.\n',
    );
    return 1;
  },
};
