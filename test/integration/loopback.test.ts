// Every socket the local stack listens on, the simulator's included, is bound to the loopback address.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLocalStack, type TestLocalStack } from '../support/local.js';
import { type ListeningSocket, listeningSockets } from '../support/sockets.js';

const portOf = (url: string): number => Number(new URL(url).port);

describe('local stack sockets', () => {
  let local: TestLocalStack;
  let opened: ListeningSocket[];

  beforeAll(async () => {
    const before = new Set((await listeningSockets()).map((socket) => socket.inode));
    local = await startTestLocalStack({ simulator: { port: 0, eventsPerSecond: 0 } });
    opened = (await listeningSockets()).filter((socket) => !before.has(socket.inode));
  });

  afterAll(async () => {
    await local.dispose();
  });

  it('listens on the webhook, DynamoDB, SQS and S3, and simulator ports, and nothing else', () => {
    const simulator = local.stack.simulator?.simulator.apiUrl ?? '';
    expect(opened.map((socket) => socket.port).sort()).toEqual(
      [
        portOf(local.stack.webhookUrl),
        portOf(local.stack.endpoints.dynamodb),
        portOf(local.stack.endpoints.sqs),
        portOf(simulator),
      ].sort(),
    );
  });

  it('binds every one of them to 127.0.0.1, as the system socket table shows', () => {
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.map((socket) => socket.address)).toEqual(opened.map(() => '127.0.0.1'));
  });
});
