// `redrive` with fakes: the dead-letter attributes left behind, nothing deleted that was not sent, the move task
// followed to its end, and the arguments it refuses.

import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { moveByHand, moveWithTask, withoutDeadLetterAttributes } from '../../cli/commands/redrive.js';
import type { DeadLetter, HandMove, MoveTaskState, MoveTasks, OutgoingMessage } from '../../cli/queue.js';
import { run } from '../../cli/run.js';
import { recordingIo } from './io.js';

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

const letter = (n: number): DeadLetter => ({
  id: `m${n}`,
  receiptHandle: `r${n}`,
  body: `{"resource":"call","event":"call.created","data":{"id":${n}}}`,
  attributes: {
    account: text('acme'),
    received_at: { DataType: 'Number', StringValue: String(1_700_000_000_000 + n) },
    failure_reason: text('record body is not an Aircall envelope'),
    failed_at: { DataType: 'Number', StringValue: '1700000000999' },
  },
});

/** A dead-letter queue in memory; `refuse` names the ids the source queue does not take. */
const fakeQueue = (count: number, refuse: ReadonlySet<string> = new Set()) => {
  const waiting = Array.from({ length: count }, (_, i) => letter(i + 1));
  const hidden: DeadLetter[] = [];
  const sent: OutgoingMessage[] = [];
  const deleted: string[] = [];
  const queue: HandMove = {
    waiting: async () => waiting.length + hidden.length,
    receive: async (max) => {
      const taken = waiting.splice(0, Math.min(10, max));
      hidden.push(...taken);
      return taken;
    },
    send: async (messages) => {
      const ok = messages.filter((m) => !refuse.has(m.id));
      sent.push(...ok);
      return {
        sent: ok.map((m) => m.id),
        failed: messages
          .filter((m) => refuse.has(m.id))
          .map((m) => ({ id: m.id, code: 'InvalidParameterValue' })),
      };
    },
    delete: async (letters) => {
      for (const { id } of letters) {
        deleted.push(id);
        hidden.splice(
          hidden.findIndex((h) => h.id === id),
          1,
        );
      }
      return [];
    },
  };
  return { queue, sent, deleted };
};

describe('withoutDeadLetterAttributes', () => {
  it('keeps the account and receive time and drops failure_reason and failed_at', () => {
    expect(Object.keys(withoutDeadLetterAttributes(letter(1).attributes)).sort()).toEqual([
      'account',
      'received_at',
    ]);
  });
});

describe('moveByHand', () => {
  it('sends every message with its body and own attributes, then deletes it', async () => {
    const fake = fakeQueue(23);
    const report = await moveByHand(fake.queue, { limit: undefined });
    expect(report).toMatchObject({ method: 'by-hand', moved: 23, left: 0, notSent: {}, notDeleted: 0 });
    expect(fake.sent.map((m) => m.body)).toEqual(Array.from({ length: 23 }, (_, i) => letter(i + 1).body));
    expect(
      fake.sent.every((m) => !('failure_reason' in m.attributes) && !('failed_at' in m.attributes)),
    ).toBe(true);
    expect(fake.sent[0]?.attributes.received_at?.StringValue).toBe('1700000000001');
    expect(fake.deleted).toHaveLength(23);
  });

  it('deletes none that was not sent, and stops at the first refusal', async () => {
    const fake = fakeQueue(25, new Set(['m3', 'm7']));
    const report = await moveByHand(fake.queue, { limit: undefined });
    expect(fake.deleted).toEqual(['m1', 'm2', 'm4', 'm5', 'm6', 'm8', 'm9', 'm10']);
    expect(report).toMatchObject({ moved: 8, left: 17, notSent: { InvalidParameterValue: 2 } });
  });

  it('moves no more than --limit', async () => {
    const fake = fakeQueue(25);
    const progress: number[] = [];
    const report = await moveByHand(fake.queue, {
      limit: 12,
      onProgress: ({ moved }) => progress.push(moved),
    });
    expect(report).toMatchObject({ moved: 12, left: 13 });
    expect(fake.deleted).toHaveLength(12);
    expect(progress).toEqual([0, 10, 12]);
  });

  it('moves nothing from an empty queue', async () => {
    expect(await moveByHand(fakeQueue(0).queue, { limit: undefined })).toMatchObject({ moved: 0, left: 0 });
  });
});

describe('moveWithTask', () => {
  const tasks = (states: readonly MoveTaskState[], waiting: number[]) => {
    let started = 0;
    const fake: MoveTasks = {
      waiting: async () => waiting.shift() ?? 0,
      start: async () => {
        started += 1;
      },
      latest: async () => states[Math.min(started === 0 ? 0 : polls++, states.length - 1)],
    };
    let polls = 0;
    return { fake, started: () => started };
  };

  it('starts one task and follows it until it completes', async () => {
    const running = (moved: number): MoveTaskState => ({
      status: 'RUNNING',
      moved,
      toMove: 40,
      failureReason: undefined,
    });
    const { fake, started } = tasks(
      [running(0), running(25), { status: 'COMPLETED', moved: 40, toMove: 40, failureReason: undefined }],
      [40, 0],
    );
    const sleeps: number[] = [];
    const report = await moveWithTask(fake, { sleep: async (ms) => void sleeps.push(ms) });
    expect(started()).toBe(1);
    expect(sleeps).toHaveLength(2);
    expect(report).toEqual({
      method: 'move-task',
      moved: 40,
      left: 0,
      notSent: {},
      notDeleted: 0,
      status: 'COMPLETED',
    });
  });

  it('starts no task for an empty dead-letter queue', async () => {
    const { fake, started } = tasks([], [0]);
    const report = await moveWithTask(fake, { sleep: async () => undefined });
    expect(started()).toBe(0);
    expect(report).toMatchObject({ moved: 0, left: 0 });
  });

  it('reports why a task failed', async () => {
    const { fake } = tasks(
      [{ status: 'FAILED', moved: 3, toMove: 9, failureReason: 'AccessDenied' }],
      [9, 6],
    );
    expect(await moveWithTask(fake, { sleep: async () => undefined })).toMatchObject({
      status: 'FAILED',
      moved: 3,
      left: 6,
      failureReason: 'AccessDenied',
    });
  });
});

describe('redrive command line', () => {
  it.each([
    [['redrive', 'events'], 'redrive takes no arguments'],
    [['redrive', '--limit', '0'], '--limit must be a whole number of at least 1'],
    [['redrive', '--limit', 'all'], '--limit must be a whole number'],
    [['redrive', '--queue', 'x'], "Unknown option '--queue'"],
  ])('refuses %j before opening a target', async (argv, message) => {
    const io = recordingIo();
    expect(await run(argv, io)).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.resolutions()).toBe(0);
  });

  it('says what it does and that it is safe to repeat', async () => {
    const io = recordingIo();
    expect(await run(['redrive', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^Usage: aircall-webhook-stack redrive \[--media\] \[--limit <n>\] \[--json\]/);
    expect(io.out()).toContain('Safe to repeat');
  });
});
