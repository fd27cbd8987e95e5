// Child process of the cold-start measure: loads one handler bundle, handles one event, then a few warm ones,
// and prints its timings as one JSON line. Bundled to plain ESM and run by Node alone, with no loader.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

interface Loaded {
  readonly handler: (event: unknown) => Promise<{ readonly statusCode?: number }>;
}

const [bundlePath, eventsPath] = process.argv.slice(2);
if (bundlePath === undefined || eventsPath === undefined)
  throw new Error('usage: cold-start <bundle> <events.json>');
const events = JSON.parse(readFileSync(eventsPath, 'utf8')) as readonly unknown[];

const started = performance.now();
const loaded = (await import(pathToFileURL(bundlePath).href)) as Loaded;
const first = await loaded.handler(events[0]);
const coldMs = performance.now() - started;

const warmMs: number[] = [];
const statuses = [first.statusCode ?? 0];
for (const event of events.slice(1)) {
  const t = performance.now();
  const result = await loaded.handler(event);
  warmMs.push(performance.now() - t);
  statuses.push(result.statusCode ?? 0);
}
// From the process's start: Node's own bootstrap included.
const processMs = performance.now();
// The SDK clients keep their sockets open: the process ends itself once its line is out.
process.stdout.write(`${JSON.stringify({ coldMs, processMs, warmMs, statuses })}\n`, () => process.exit(0));
