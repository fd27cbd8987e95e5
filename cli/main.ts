// The CLI's entry point: runs the command line with the process's own streams, environment and clock.

import { run } from './run.js';
import { resolveTarget } from './target.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  stdoutBytes: { stream: process.stdout, isTty: process.stdout.isTTY === true },
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  },
  now: () => new Date(),
  resolveTarget: resolveTarget(process.env),
});
