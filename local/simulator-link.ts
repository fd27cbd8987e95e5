// Starts the Aircall simulator beside the local stack and subscribes the stack to it, as a team would with Aircall:
// a webhook created through the Public API, its token registered, live traffic flowing.

import type { AircallCredentials } from '../lambdas/guardian/aircall.js';
import { AircallClient } from '../lambdas/guardian/aircall-client.js';
import { snapshotOf } from '../lambdas/guardian/guardian.js';
import type { WebhookRegistry } from '../lambdas/guardian/registry.js';
import { type Simulator, startSimulator } from '../simulator/simulator.js';

export interface LinkedSimulatorOptions {
  readonly port: number;
  /** Address the simulator listens on. */
  readonly host: string;
  /** Generated events a second; 0 starts no traffic. */
  readonly eventsPerSecond: number;
  /** The local stack's webhook URL. */
  readonly webhookUrl: string;
  readonly registry: WebhookRegistry;
}

export interface LinkedSimulator {
  readonly simulator: Simulator;
  /** The simulated company's credentials, for the local guardian. */
  readonly credentials: AircallCredentials;
  readonly webhookId: string;
  stop(): Promise<void>;
}

/** The simulated company; its credentials only open the simulator. */
export const SIMULATED_COMPANY = {
  account: 'simulated',
  apiId: 'simulated-id',
  apiToken: 'simulated-token',
} as const;

export const linkSimulator = async (options: LinkedSimulatorOptions): Promise<LinkedSimulator> => {
  const simulator = await startSimulator({
    port: options.port,
    host: options.host,
    companies: [SIMULATED_COMPANY],
  });
  try {
    const credentials: AircallCredentials = { ...SIMULATED_COMPANY };
    const api = new AircallClient({ credentials, baseUrl: simulator.apiUrl });
    const webhook = await api.createWebhook({
      url: options.webhookUrl,
      customName: 'aircall-webhook-stack (local)',
    });
    await options.registry.upsert(snapshotOf(credentials.account, webhook, Date.now()));
    if (options.eventsPerSecond > 0) simulator.startTraffic({ eventsPerSecond: options.eventsPerSecond });
    return {
      simulator,
      credentials,
      webhookId: webhook.webhookId,
      stop: async () => {
        simulator.stopTraffic();
        await simulator.stop();
      },
    };
  } catch (error) {
    await simulator.stop();
    throw error;
  }
};
