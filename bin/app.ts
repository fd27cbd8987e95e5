// CDK entry point: validated configuration, the stack, and the cdk-nag gate.
import { App } from 'aws-cdk-lib';
import { AircallWebhookStack } from '../lib/aircall-webhook-stack.js';
import { ConfigError, loadConfig, type StackConfig } from '../lib/config.js';
import { applyNagPacks } from '../lib/nag.js';

const app = new App();

let config: StackConfig;
try {
  config = loadConfig(app);
} catch (error) {
  // A configuration mistake is the user's to fix: show the list of problems, not a stack trace.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

new AircallWebhookStack(app, config.stackName, {
  config,
  description: 'Receives Aircall webhooks and keeps calls, agents, numbers and contacts current in DynamoDB',
});
applyNagPacks(app);
