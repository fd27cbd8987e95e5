// Posts webhook payloads to an endpoint a few at a time and counts the answers; knows nothing of the terminal.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson } from '../lib/definitions/json.js';
import { CommandFailedError, UsageError } from './errors.js';
import { redactUrls, safeUrl } from './format.js';

export interface Payload {
  readonly file: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface SendOptions {
  readonly url: string;
  /** Replaces each payload's `token`; it is sent and never written anywhere else. */
  readonly token: string;
  readonly concurrency: number;
  /** How many times the whole set is sent. */
  readonly repeat: number;
  readonly timeoutMs: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SendReport {
  readonly total: number;
  /** Requests answered, by HTTP status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Requests that got no answer, by what went wrong. */
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

/** Files as given, and every `*.json` of each directory given, sorted by name. */
export const collectFiles = async (paths: readonly string[]): Promise<string[]> => {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw new UsageError(`cannot read ${path}: no such file or directory`, { cause: error });
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    if (names.length === 0) throw new UsageError(`${path} holds no .json file`);
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
};

/** Reads every file before anything is sent, so a bad one stops the run before it half happens. */
export const loadPayloads = async (files: readonly string[]): Promise<Payload[]> =>
  Promise.all(
    files.map(async (file) => {
      let body: unknown;
      try {
        // Exact: an id beyond 2^53 is sent with the digits the file holds, not rounded by JSON.parse.
        body = parseJson(await readFile(file, 'utf8'));
      } catch (error) {
        throw new CommandFailedError(`${file} is not JSON`, { cause: error });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new CommandFailedError(`${file} is not a JSON object`);
      }
      return { file, body: body as Record<string, unknown> };
    }),
  );

/** The body to send: the payload as it is, its `token` replaced in place. */
export const withToken = (payload: Payload, token: string): string =>
  JSON.stringify({ ...payload.body, token });

const errorCode = (error: unknown): string | undefined => {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ('code' in current && typeof current.code === 'string') return current.code;
  }
  return undefined;
};

/** Why a request got no answer, in words; fetch itself says only "fetch failed". */
export const describeFailure = (error: unknown, url: string): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer from ${safeUrl(url)} in time`;
  }
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return `connection refused by ${safeUrl(url)}`;
  if (code === 'ENOTFOUND') return `host of ${safeUrl(url)} not found`;
  if (code === 'ECONNRESET') return `connection reset by ${safeUrl(url)}`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  // fetch quotes the URL whole in some refusals ("... includes credentials: http://user:pass@..."), the secret with it.
  return redactUrls(cause instanceof Error ? cause.message : String(cause));
};

const count = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Sends every payload `repeat` times, at most `concurrency` in flight, and counts the answers. */
export const sendAll = async (payloads: readonly Payload[], options: SendOptions): Promise<SendReport> => {
  const bodies = payloads.map((payload) => withToken(payload, options.token));
  const total = bodies.length * options.repeat;
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const started = performance.now();
  let next = 0;
  let done = 0;

  const post = async (body: string): Promise<void> => {
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      // The body is read only to free the connection for the next request.
      await response.arrayBuffer();
      count(statuses, String(response.status));
    } catch (error) {
      count(errors, describeFailure(error, options.url));
    }
  };

  const worker = async (): Promise<void> => {
    for (let index = next++; index < total; index = next++) {
      const body = bodies[index % bodies.length];
      if (body !== undefined) await post(body);
      done += 1;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, total) }, worker));
  return { total, statuses, errors, elapsedMs: performance.now() - started };
};

/** True when every request was answered 2xx. */
export const allAccepted = (report: SendReport): boolean =>
  Object.keys(report.errors).length === 0 &&
  Object.keys(report.statuses).every((status) => status.startsWith('2') && status.length === 3);
