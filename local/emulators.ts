// Starts and stops the embedded emulators the local stack and the tests run on: dynalite (DynamoDB) and fauxqs (SQS).

import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';

/** The region every local client uses: fauxqs builds queue ARNs and URLs from the region a request is signed for. */
export const LOCAL_REGION = 'us-east-1';

/** Neither emulator checks credentials, but the SDK refuses to sign a request without some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Options for an SQS client of the embedded queue. fauxqs names its queues `http://sqs.<region>.localhost:<port>/…`,
 * a host glibc does not resolve, so requests go to the endpoint rather than to the queue URL's host.
 */
export const localSqsClientConfig = (endpoint: string) =>
  ({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint, useQueueUrlAsEndpoint: false }) as const;

export interface RunningEmulator {
  /** Base URL to give an SDK client as its endpoint, e.g. `http://127.0.0.1:8000`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface DynamoOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Directory that keeps the data across restarts; in memory when absent. */
  readonly path?: string;
}

export interface SqsOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
}

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the emulators check no credentials, so they must not be reachable from the network.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

const close = (server: Server): Promise<void> =>
  new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // SDK clients keep connections alive; closing them lets the server stop now rather than when they time out.
    server.closeAllConnections();
  });

export const startDynamo = async ({ port, path }: DynamoOptions): Promise<RunningEmulator> => {
  if (path !== undefined) await mkdir(path, { recursive: true });
  // Tables are ACTIVE as soon as they are created: nothing local gains from waiting like the real service.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const actualPort = await listen(server, port);
  return { endpoint: `http://127.0.0.1:${actualPort}`, stop: () => close(server) };
};

/** A message as the embedded SQS holds it, whether ready, delayed or in flight. */
export interface HeldMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>;
}

export interface RunningSqs extends RunningEmulator {
  /** Every message a queue holds, in flight included, without changing anything; undefined if no such queue. */
  held(queueName: string): HeldMessage[] | undefined;
}

export const startSqs = async ({ port }: SqsOptions): Promise<RunningSqs> => {
  // The host is fixed so that FAUXQS_HOST in the environment cannot change the queue URLs.
  // fauxqs always listens on all interfaces; it has no option to bind to loopback only.
  const server = await startFauxqs({ port, logger: false, host: 'localhost', defaultRegion: LOCAL_REGION });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    stop: () => server.stop(),
    held: (queueName) => {
      const queue = server.inspectQueue(queueName);
      if (queue === undefined) return undefined;
      const { ready, delayed, inflight } = queue.messages;
      return [...ready, ...delayed, ...inflight.map((entry) => entry.message)].map((message) => ({
        body: message.body,
        attributes: message.messageAttributes,
      }));
    },
  };
};
