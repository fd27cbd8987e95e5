// The standalone simulator's command line.

import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../simulator/args.js';
import { InvalidOptionsError } from '../../simulator/errors.js';

describe('simulator command line', () => {
  it('runs the demo company on port 4000 at 5 events a second by default', () => {
    const { options, eventsPerSecond, help } = parseCommandLine([]);
    expect(eventsPerSecond).toBe(5);
    expect(help).toBe(false);
    expect(options).toMatchObject({
      port: 4000,
      companies: [{ account: 'demo', apiId: expect.stringMatching(/^demo-[0-9a-f]{8}$/) }],
      activeFieldName: 'active',
      resetUnit: 'seconds',
      resetEventsOnPutWithoutEvents: true,
      allowRemoteDelivery: false,
    });
  });

  it('makes the default API ID and token at random, anew for each run', () => {
    const [first, second] = [parseCommandLine([]), parseCommandLine([])].map(
      ({ options }) => options.companies?.[0],
    );
    expect(first?.apiToken).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.apiToken).not.toBe(first?.apiToken);
    expect(second?.apiId).not.toBe(first?.apiId);
    expect(parseCommandLine(['--account', 'acme']).options.companies?.[0]?.apiId).toMatch(/^acme-/);
  });

  it('delivers to remote hosts only with --allow-remote-delivery', () => {
    expect(parseCommandLine(['--allow-remote-delivery']).options.allowRemoteDelivery).toBe(true);
  });

  it('takes the port, rate, credentials and API variants', () => {
    const { options, eventsPerSecond } = parseCommandLine([
      '--port',
      '0',
      '--rate',
      '0',
      '--account',
      'acme',
      '--api-id',
      'a',
      '--api-token',
      'b',
      '--access-token',
      'c',
      '--is-active',
      '--reset-ms',
      '--keep-events-on-put',
    ]);
    expect(eventsPerSecond).toBe(0);
    expect(options).toMatchObject({
      port: 0,
      companies: [{ account: 'acme', apiId: 'a', apiToken: 'b', accessToken: 'c' }],
      activeFieldName: 'is_active',
      resetUnit: 'milliseconds',
      resetEventsOnPutWithoutEvents: false,
    });
  });

  it('refuses a rate that is not a number', () => {
    expect(() => parseCommandLine(['--rate', 'fast'])).toThrow(InvalidOptionsError);
  });
});
