// Persist's notes in the accounts table: each account made known once per process, its activity marked once a minute.
import { describe, expect, it } from 'vitest';
import { type AccountRegister, KnownAccounts, ThrottledActivity } from '../../lambdas/shared/accounts.js';

class FlakyRegister implements AccountRegister {
  readonly registered: string[] = [];
  failures = 0;

  async register(account: string): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('connect ETIMEDOUT');
    }
    this.registered.push(account);
  }
}

describe('KnownAccounts', () => {
  it('registers each account once per process, however many batches bring it', async () => {
    const store = new FlakyRegister();
    const known = new KnownAccounts(store, () => 1_000);

    await known.ensure(['acme', 'acme', 'globex']);
    await known.ensure(['globex', 'acme']);

    expect(store.registered).toEqual(['acme', 'globex']);
  });

  it('lets a failure through and registers the account at the next batch', async () => {
    const store = new FlakyRegister();
    store.failures = 1;
    const known = new KnownAccounts(store, () => 1_000);

    await expect(known.ensure(['acme'])).rejects.toThrow('ETIMEDOUT');
    await known.ensure(['acme']);

    expect(store.registered).toEqual(['acme']);
  });
});

describe('ThrottledActivity', () => {
  it('marks an account at most once a minute, and tries again at once after a failed mark', async () => {
    const marks: number[] = [];
    let fail = true;
    const activity = new ThrottledActivity(
      {
        noteEvents: async (_account, atSeconds) => {
          if (fail) throw new Error('throttled');
          marks.push(atSeconds);
        },
      },
      60_000,
    );

    await expect(activity.arrived('acme', 1_000_000)).rejects.toThrow('throttled');
    fail = false;
    await activity.arrived('acme', 1_001_000);
    await activity.arrived('acme', 1_030_000);
    await activity.arrived('acme', 1_062_000);

    expect(marks).toEqual([1_001, 1_062]);
  });
});
