// Starts and stops the embedded emulators the local stack and the tests run on: dynalite (DynamoDB) and fauxqs
// (SQS and S3 on one endpoint), each listening on loopback unless told otherwise, and neither answering a browser.

import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { LOCAL_REGION, LOOPBACK, urlFor } from './clients.js';
import { createPrivateDirectory, createPrivateFile, SQS_DATABASE_FILE } from './data-dir.js';
import { FORBIDDEN, guardListener, refusal } from './request-guard.js';

export interface RunningEmulator {
  /** Base URL to give an SDK client as its endpoint, e.g. `http://127.0.0.1:8000`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Address to listen on. @default LOOPBACK */
  readonly host?: string;
  /** Directory that keeps the data across restarts; in memory when absent. */
  readonly path?: string;
}

const listen = (server: Server, port: number, host: string): Promise<AddressInfo> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });

const close = (server: Server): Promise<void> =>
  new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // SDK clients keep connections alive; closing them lets the server stop now rather than when they time out.
    server.closeAllConnections();
  });

export const startDynamo = async ({
  port,
  host = LOOPBACK,
  path,
}: EmulatorOptions): Promise<RunningEmulator> => {
  if (path !== undefined) await createPrivateDirectory(path);
  // Tables are ACTIVE as soon as they are created: nothing local gains from waiting like the real service.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite answers CORS for any Origin, which would let any web page read and write the tables: its one
  // request listener is put behind the guard, so a refused request never reaches it.
  const listeners = server.listeners('request') as RequestListener[];
  const [handler] = listeners;
  if (listeners.length !== 1 || handler === undefined)
    throw new Error(`dynalite has ${listeners.length} request listeners, expected 1`);
  server.removeAllListeners('request');
  server.on('request', guardListener(handler, { bindAddress: host }));
  const address = await listen(server, port, host);
  return { endpoint: urlFor(host, address.port), stop: () => close(server) };
};

export interface RunningSqs extends RunningEmulator {
  /** Messages a queue holds right now, ready, delayed and in flight; undefined if there is no such queue. */
  depth(queueName: string): number | undefined;
  /** Receipt handles of the messages a queue has in flight right now. */
  inFlight(queueName: string): string[];
}

/**
 * fauxqs serves SQS and S3 on one port. With `path`, every change is written to SQLite there before the request
 * is answered, so a message SQS accepted survives even a `kill -9` of the process.
 */
export const startSqs = async ({ port, host = LOOPBACK, path }: EmulatorOptions): Promise<RunningSqs> => {
  if (path !== undefined) {
    await createPrivateDirectory(path);
    // Made 0600 before fauxqs opens it, so that SQLite gives its journal files the same mode.
    await createPrivateFile(join(path, SQS_DATABASE_FILE));
  }
  // The queue URLs' host is fixed so that FAUXQS_HOST in the environment cannot change them; `bindAddress`
  // and `onRequest` are this project's patch of fauxqs (patches/), which otherwise listens on every interface
  // and answers anyone.
  const server = await startFauxqs({
    port,
    bindAddress: host,
    onRequest: (request, reply, done) => {
      if (refusal(request.headers, { bindAddress: host }) === undefined) {
        done();
        return;
      }
      reply
        .code(FORBIDDEN.status)
        .header('content-type', FORBIDDEN.headers['content-type'])
        .send(FORBIDDEN.body);
    },
    logger: false,
    host: 'localhost',
    defaultRegion: LOCAL_REGION,
    ...(path === undefined ? {} : { dataDir: path }),
  });
  return {
    endpoint: urlFor(host, server.port),
    stop: () => server.stop(),
    depth: (queueName) => {
      const queue = server.inspectQueue(queueName);
      if (queue === undefined) return undefined;
      const { ready, delayed, inflight } = queue.messages;
      return ready.length + delayed.length + inflight.length;
    },
    inFlight: (queueName) =>
      (server.inspectQueue(queueName)?.messages.inflight ?? []).map((entry) => entry.receiptHandle),
  };
};
