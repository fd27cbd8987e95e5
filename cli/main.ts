// The CLI's entry point: runs the command line with the process's own streams, environment and clock.

import { run } from './run.js';
import { resolveTarget } from './target.js';

// The project supports Node.js 20; the SDK's notice that its 2027 releases will not would otherwise
// open every command's output. Left alone when the user has set it either way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  env: process.env,
  now: () => new Date(),
  resolveTarget: resolveTarget(process.env),
});
