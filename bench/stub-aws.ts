// A local HTTP server answering SQS SendMessage and DynamoDB GetItem at once, so that a cold start measures the
// bundle's own work: both bundles reach it through the SDK's endpoint variables, their code unchanged.

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_ACCOUNT } from './traffic.js';

export interface StubAws {
  readonly endpoint: string;
  /** Requests answered, by operation (`AmazonSQS.SendMessage`, `DynamoDB_20120810.GetItem`). */
  readonly answered: Map<string, number>;
  stop(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const field = (input: unknown, name: string): unknown =>
  typeof input === 'object' && input !== null && name in input
    ? (input as Record<string, unknown>)[name]
    : undefined;

/** The answer of one operation, or undefined for an operation the stub does not know. */
const answer = (operation: string, input: unknown): Record<string, unknown> | undefined => {
  if (operation === 'AmazonSQS.SendMessage') {
    const body = String(field(input, 'MessageBody') ?? '');
    // The SDK checks the body's MD5 against the one SQS answers.
    return {
      MessageId: randomUUID(),
      MD5OfMessageBody: createHash('md5').update(body, 'utf8').digest('hex'),
    };
  }
  if (operation === 'DynamoDB_20120810.GetItem') {
    // Every token is registered: the item found is keyed by the digest asked for.
    const tokenHash = field(field(field(input, 'Key'), 'token_hash'), 'S');
    return { Item: { token_hash: { S: String(tokenHash) }, account: { S: BENCH_ACCOUNT } } };
  }
  return undefined;
};

export const startStubAws = async (): Promise<StubAws> => {
  const answered = new Map<string, number>();
  const server = createServer((request, response) => {
    readBody(request).then(
      (text) => {
        const operation = String(request.headers['x-amz-target'] ?? '');
        const result = answer(operation, text === '' ? {} : (JSON.parse(text) as unknown));
        if (result === undefined) {
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(JSON.stringify({ __type: 'UnknownOperationException', message: operation }));
          return;
        }
        answered.set(operation, (answered.get(operation) ?? 0) + 1);
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(result));
      },
      (error: unknown) => response.destroy(error instanceof Error ? error : undefined),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    answered,
    stop: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
