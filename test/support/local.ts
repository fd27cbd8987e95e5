// Starts the local stack for an integration test: free ports, a temporary data directory, a reader client.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/clients.js';
import { type LocalSettings, readLocalSettings } from '../../local/settings.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';

export const TOKEN = 'integration-token';

export const waitFor = async <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The body with its token replaced by the test's registered one. */
export const withToken = (body: string): string => JSON.stringify({ ...JSON.parse(body), token: TOKEN });

export const post = async (url: string, body: string): Promise<number> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
};

export interface TestLocalStack {
  readonly settings: LocalSettings;
  readonly documents: DynamoDBDocumentClient;
  stack: LocalStack;
  /** Starts the stack again on the same ports and data, as `npm start` after Ctrl-C would. */
  restart(): Promise<void>;
  /** Stops the stack and removes its data. */
  dispose(): Promise<void>;
}

export const startTestLocalStack = async (
  options: Omit<LocalStackOptions, 'settings'> = {},
): Promise<TestLocalStack> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'aircall-local-'));
  const variables = { DATA_DIR: dataDir, LOCAL_WEBHOOK_TOKEN: TOKEN };
  // Ports 0 first, so the system picks free ones with no race; a restart reuses the ones the first start bound.
  const stack = await startLocalStack({
    ...options,
    settings: readLocalSettings({ ...variables, PORT: '0', DYNAMODB_PORT: '0', SQS_PORT: '0' }),
  });
  const portOf = (url: string): string => new URL(url).port;
  const settings = readLocalSettings({
    ...variables,
    PORT: portOf(stack.webhookUrl),
    DYNAMODB_PORT: portOf(stack.endpoints.dynamodb),
    SQS_PORT: portOf(stack.endpoints.sqs),
  });
  const handle: TestLocalStack = {
    settings,
    stack,
    documents: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: stack.endpoints.dynamodb,
      }),
    ),
    restart: async () => {
      handle.stack = await startLocalStack({ ...options, settings });
    },
    dispose: async () => {
      await handle.stack.stop();
      handle.documents.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
};
