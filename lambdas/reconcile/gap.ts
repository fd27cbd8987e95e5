// Gap repair without a person: after a guardian pass, tell whether an account's events have a gap (a webhook Aircall
// deactivated, or calls at Aircall that no event brought), record it, and read it through reconcile until it is done.

import type { AccountReport } from '../guardian/guardian.js';
import type { AccountRecord, AccountStore, GapWindow } from '../shared/accounts.js';
import type { ApiReader, ReconcileCursor } from './ports.js';
import { type ReconcileDeps, type ReconcileReport, reconcile } from './reconcile.js';

export const GAP_REPAIR = {
  /** Read from this long before the last event: the mark of it is a minute coarse, and deliveries overlap. */
  marginSeconds: 600,
  /** With every webhook active, events this long quiet make the pass ask Aircall whether calls went unseen. */
  quietSeconds: 900,
  /** Calls younger than this are left out of that question: their events may still be on their way. */
  settleSeconds: 300,
  /** Where a gap starts when nothing says when events last came: about Aircall's own retry window. */
  lookbackSeconds: 12 * 3600,
} as const;

/** What the guardian's pass found for the account. */
export interface PassFindings {
  /** The pass re-enabled a webhook Aircall had deactivated. */
  readonly reenabled: boolean;
  /** Every webhook of the account that points here is active now. */
  readonly allActive: boolean;
}

/** What a guardian pass found that tells a gap: a webhook re-enabled, and whether every webhook is active now. */
export const passFindings = (report: AccountReport): PassFindings => ({
  reenabled: report.webhooks.some((webhook) => webhook.action === 'reenabled'),
  allActive:
    report.listed &&
    report.webhooks.length > 0 &&
    report.webhooks.every((webhook) => webhook.action === 'active' || webhook.action === 'reenabled'),
});

export interface GapDeps extends Omit<ReconcileDeps, 'reader'> {
  readonly accounts: AccountStore;
  readonly reader: ApiReader;
}

export interface GapRepair {
  readonly account: string;
  /** The gap being read, when there is one. */
  readonly gap?: GapWindow;
  /** Why a gap was opened by this pass. */
  readonly opened?: 'reenabled' | 'calls unseen';
  readonly report?: ReconcileReport;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The gap a pass reveals, or undefined: a re-enabled webhook always; quiet events only when Aircall has calls. */
const findGap = async (
  record: AccountRecord,
  findings: PassFindings,
  deps: GapDeps,
): Promise<{ gap: GapWindow; why: 'reenabled' | 'calls unseen' } | undefined> => {
  const now = seconds(deps.now());
  const { marginSeconds, quietSeconds, settleSeconds, lookbackSeconds } = GAP_REPAIR;
  if (findings.reenabled) {
    const since = record.lastEventAt ?? record.seenActiveAt ?? now - lookbackSeconds;
    return { gap: { from: since - marginSeconds, to: now }, why: 'reenabled' };
  }
  const last = record.lastEventAt;
  if (!findings.allActive || last === undefined || now - last < quietSeconds) return undefined;
  // Two minutes past the mark: a call started in its last minute may have had its events counted before it.
  const unseen = { from: last + 120, to: now - settleSeconds };
  if (unseen.from > unseen.to) return undefined;
  const page = await deps.reader.callsPage(unseen);
  if ((page.total ?? page.items.length) === 0) return undefined;
  return { gap: { from: last - marginSeconds, to: now }, why: 'calls unseen' };
};

const parseCursor = (text: string | undefined): ReconcileCursor | undefined => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as ReconcileCursor;
  } catch {
    return undefined;
  }
};

/**
 * Notes the pass's findings on the account, opens a gap when they reveal one, and reads the pending gap's calls
 * until the deadline; what is left is read by the next pass, from the cursor kept on the account.
 */
export const repairGap = async (
  account: string,
  findings: PassFindings,
  deps: GapDeps,
): Promise<GapRepair> => {
  if (findings.allActive) await deps.accounts.noteActive(account, seconds(deps.now()));
  let record = await deps.accounts.read(account);
  let opened: GapRepair['opened'];
  if (record.gap === undefined) {
    const found = await findGap(record, findings, deps);
    if (found === undefined) return { account };
    await deps.accounts.openGap(account, found.gap);
    opened = found.why;
    record = await deps.accounts.read(account);
  }
  const { gap } = record;
  if (gap === undefined) return { account };
  const cursor = parseCursor(record.cursor);
  const report = await reconcile(
    { account, window: gap, resources: ['call'], ...(cursor === undefined ? {} : { cursor }) },
    deps,
  );
  if (report.complete) await deps.accounts.closeGap(account, seconds(deps.now()));
  else if (report.cursor !== undefined)
    await deps.accounts.saveCursor(account, JSON.stringify(report.cursor));
  return { account, gap, ...(opened === undefined ? {} : { opened }), report };
};
