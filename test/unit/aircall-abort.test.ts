// The Aircall client's signal: once its caller's time is up, the request in flight is cancelled and no other starts.

import { describe, expect, it } from 'vitest';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';

const credentials = { account: 'acme', apiId: 'id', apiToken: 'token' };

describe('AircallClient with a signal', () => {
  it('cancels the request in flight when the signal aborts, with the signal’s reason', async () => {
    const controller = new AbortController();
    const started: string[] = [];
    let inFlight: () => void = () => {};
    const requested = new Promise<void>((resolve) => {
      inFlight = resolve;
    });
    const hanging: typeof fetch = (input, init) => {
      started.push(String(input));
      inFlight();
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    };
    const client = new AircallClient({ credentials, fetch: hanging, signal: controller.signal });
    const listing = client.listWebhooks();
    await requested;
    const reason = new Error('the pass did not finish within 110000 ms');
    controller.abort(reason);

    await expect(listing).rejects.toBe(reason);
    expect(started).toHaveLength(1);
  });

  it('starts no request once the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('out of time'));
    let requests = 0;
    const client = new AircallClient({
      credentials,
      fetch: async () => {
        requests += 1;
        return new Response('{}');
      },
      signal: controller.signal,
    });
    await expect(client.getWebhook('w-1')).rejects.toThrow('out of time');
    expect(requests).toBe(0);
  });
});
