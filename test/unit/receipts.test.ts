// Receipts: every event listed once, grouped by account and minute, in keys no event row can take, under the item limit.
import { describe, expect, it } from 'vitest';
import { isReceiptKey, receiptsOf } from '../../lib/definitions/receipts.js';

const MINUTE = Date.UTC(2026, 11, 1, 23, 59, 0);

const received = (account: string, n: number, receivedAt: number, pk = `call#${n}`) => ({
  account,
  pk,
  sk: `001796169540#01#call.created#${String(n).padStart(16, '0')}`,
  receivedAt,
});

describe('receiptsOf', () => {
  it('groups by account, day and minute, each event once, oldest first', () => {
    const receipts = receiptsOf(
      [
        received('acme', 2, MINUTE + 2_000),
        received('acme', 1, MINUTE + 1_000),
        received('acme', 1, MINUTE + 1_000),
        received('globex', 3, MINUTE + 1_500),
        // The next minute is the next UTC day.
        received('acme', 4, MINUTE + 60_500),
      ],
      0,
    );

    expect(receipts.map((receipt) => [receipt.pk, receipt.events.map(([pk]) => pk)])).toEqual([
      ['#received#acme#2026-12-01', ['call#1', 'call#2']],
      ['#received#globex#2026-12-01', ['call#3']],
      ['#received#acme#2026-12-02', ['call#4']],
    ]);
    expect(receipts.every((receipt) => receipt.expires_at === undefined)).toBe(true);
  });

  it('keys a receipt by its minute and what it lists, so that only the same batch rewrites it', () => {
    const [first] = receiptsOf([received('acme', 1, MINUTE + 1_000)], 0);
    const [again] = receiptsOf([received('acme', 1, MINUTE + 1_000)], 0);
    const [other] = receiptsOf([received('acme', 2, MINUTE + 1_000)], 0);

    expect(first?.sk.startsWith(`${MINUTE}#`)).toBe(true);
    expect(again?.sk).toBe(first?.sk);
    expect(other?.sk).not.toBe(first?.sk);
  });

  it('expires with the latest row it lists', () => {
    const [receipt] = receiptsOf(
      [received('acme', 1, MINUTE + 1_000), received('acme', 2, MINUTE + 9_000)],
      30,
    );

    expect(receipt?.expires_at).toBe(Math.floor((MINUTE + 9_000) / 1000) + 30 * 86_400);
  });

  it('splits a minute whose keys are long into receipts far below the 400 KB item limit, listing each once', () => {
    const longKey = (n: number) => `${'r'.repeat(2_000)}#${n}`;
    const events = Array.from({ length: 300 }, (_, n) => received('acme', n, MINUTE + n, longKey(n)));

    const receipts = receiptsOf(events, 0);

    expect(receipts.length).toBeGreaterThan(1);
    for (const receipt of receipts)
      expect(Buffer.byteLength(JSON.stringify(receipt))).toBeLessThan(400_000 / 1.5);
    expect(receipts.flatMap((receipt) => receipt.events.map(([pk]) => pk))).toEqual(events.map((e) => e.pk));
  });
});

describe('isReceiptKey', () => {
  it('tells a receipt from any event row, whatever the event names its resource', () => {
    expect(isReceiptKey('#received#acme#2026-12-01')).toBe(true);
    // An event may call its resource "received": its row's key still starts with the resource, never with "#".
    expect(isReceiptKey('received#victim#2026-12-01')).toBe(false);
    expect(isReceiptKey('call#780836699')).toBe(false);
  });
});
