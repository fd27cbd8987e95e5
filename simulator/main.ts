// `npm run simulator`: a standalone Aircall simulator that runs until Ctrl-C and prints a stats line now and then.

import { parseCommandLine, USAGE } from './args.js';
import { startSimulator } from './simulator.js';

const STATS_EVERY_MS = 5000;

const main = async (): Promise<void> => {
  let commandLine: ReturnType<typeof parseCommandLine>;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if (commandLine.help) {
    console.log(USAGE);
    return;
  }
  const simulator = await startSimulator(commandLine.options);
  const company = simulator.companies()[0];
  console.log(`Aircall simulator on ${simulator.url}`);
  console.log(`  API base URL   ${simulator.apiUrl}`);
  if (company !== undefined) {
    // Made up for this run (unless given): printing them is the point. Webhook tokens are never printed.
    console.log(`  account        ${company.account}`);
    console.log(`  api_id         ${company.apiId}`);
    console.log(`  api_token      ${company.apiToken}`);
    if (company.accessToken !== undefined) console.log(`  access token   ${company.accessToken}`);
    console.log(
      `  create a webhook: curl -u ${company.apiId}:${company.apiToken} -H 'content-type: application/json' \\\n` +
        `    -d '{"url":"http://127.0.0.1:3000/aircall/webhook"}' ${simulator.apiUrl}/webhooks`,
    );
  }
  console.log(
    commandLine.options.allowRemoteDelivery === true
      ? '  delivers to    any host (--allow-remote-delivery)'
      : '  delivers to    this machine only (127.0.0.1, ::1, localhost); --allow-remote-delivery for others',
  );
  if (commandLine.eventsPerSecond > 0) {
    simulator.startTraffic({ eventsPerSecond: commandLine.eventsPerSecond });
    console.log(`  generating ${commandLine.eventsPerSecond} events/s for the company's active webhooks`);
  }
  console.log('Ctrl-C to stop.');

  const timer = setInterval(() => {
    const { generatedEvents, totals } = simulator.stats();
    console.log(
      `${new Date().toISOString()} generated=${generatedEvents} delivered=${totals.delivered} ` +
        `duplicates=${totals.duplicates} failures=${totals.failures} pending=${totals.pending} ` +
        `webhooks=${totals.activeWebhooks}/${totals.webhooks} active deactivations=${totals.deactivations}`,
    );
  }, STATS_EVERY_MS);

  const shutdown = (): void => {
    clearInterval(timer);
    simulator.stop().then(
      () => console.log('Simulator stopped.'),
      (error: unknown) => {
        console.error('Simulator did not stop cleanly:', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
};

await main();
