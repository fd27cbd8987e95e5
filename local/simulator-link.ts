// Starts the Aircall simulator beside the local stack and subscribes the stack to it, as a team would with Aircall:
// a webhook created through the Public API, its token registered, live traffic flowing.

import { snapshotOf } from '../lambdas/guardian/guardian.js';
import type { WebhookRegistry } from '../lambdas/guardian/registry.js';
import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../lambdas/shared/aircall/aircall-client.js';
import {
  randomCompany,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../simulator/simulator.js';

/** What a caller may set of the simulator's own behaviour: its address and its company are the link's to choose. */
export type LinkedSimulatorBehaviour = Omit<SimulatorOptions, 'port' | 'host' | 'companies'>;

export interface LinkedSimulatorOptions {
  readonly port: number;
  /** Address the simulator listens on. */
  readonly host: string;
  /** Generated events a second; 0 starts no traffic. */
  readonly eventsPerSecond: number;
  /** The local stack's webhook URL. */
  readonly webhookUrl: string;
  /** Media link expiry, duplicates, clock and the like. @default the simulator's defaults */
  readonly behaviour?: LinkedSimulatorBehaviour;
  readonly registry: WebhookRegistry;
}

export interface LinkedSimulator {
  readonly simulator: Simulator;
  /** The simulated company's credentials, made at random for this start: for the local guardian and the banner. */
  readonly credentials: AircallCredentials & { readonly apiId: string; readonly apiToken: string };
  readonly webhookId: string;
  stop(): Promise<void>;
}

/** The simulated company's account; its credentials are made at each start and only open the simulator. */
export const SIMULATED_ACCOUNT = 'simulated';

export const linkSimulator = async (options: LinkedSimulatorOptions): Promise<LinkedSimulator> => {
  const company = randomCompany(SIMULATED_ACCOUNT);
  const simulator = await startSimulator({
    ...options.behaviour,
    port: options.port,
    host: options.host,
    companies: [company],
  });
  try {
    const credentials = { account: company.account, apiId: company.apiId, apiToken: company.apiToken };
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
