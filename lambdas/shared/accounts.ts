// The accounts table: per Aircall account, when its events last arrived, when its webhooks were last seen active,
// and the gap a reconcile has still to read. Persist, the guardian and reconcile share it.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** A window of calls by `started_at`, UNIX seconds, both ends included. */
export interface GapWindow {
  readonly from: number;
  readonly to: number;
}

export interface AccountRecord {
  readonly account: string;
  /** UNIX seconds: the receive time of its latest event, to within a minute. */
  readonly lastEventAt?: number;
  /** UNIX seconds: the last guardian pass that found every webhook of the account active. */
  readonly seenActiveAt?: number;
  /** The gap a reconcile must read, and how far it got (JSON of the reconcile cursor), until it is done. */
  readonly gap?: GapWindow;
  readonly cursor?: string;
  /** UNIX seconds: when the last gap was read to its end. */
  readonly reconciledAt?: number;
}

export interface AccountStore {
  read(account: string): Promise<AccountRecord>;
  /** Moves `last_event_at` forward to `atSeconds`; never back. */
  noteEvents(account: string, atSeconds: number): Promise<void>;
  noteActive(account: string, atSeconds: number): Promise<void>;
  /** Records a gap to read, unless one is already pending: the pending one started earlier and is kept. */
  openGap(account: string, gap: GapWindow): Promise<void>;
  saveCursor(account: string, cursor: string): Promise<void>;
  /** The gap is read: it and its cursor go, and the time is noted. */
  closeGap(account: string, atSeconds: number): Promise<void>;
}

/** Where an account is made known: its item in the accounts table, which every listing of all accounts reads. */
export interface AccountRegister {
  /** Creates the account's item, `first_seen_at` set, unless it has one; changes nothing of one that exists. */
  register(account: string, atSeconds: number): Promise<void>;
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

const numberOrUndefined = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : undefined;

export class DynamoAccountStore implements AccountStore, AccountRegister {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async register(account: string, atSeconds: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { account },
        UpdateExpression: 'SET first_seen_at = if_not_exists(first_seen_at, :at)',
        ExpressionAttributeValues: { ':at': atSeconds },
      }),
    );
  }

  async read(account: string): Promise<AccountRecord> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { account }, ConsistentRead: true }),
    );
    const gapFrom = numberOrUndefined(Item?.gap_from);
    const gapTo = numberOrUndefined(Item?.gap_to);
    const lastEventAt = numberOrUndefined(Item?.last_event_at);
    const seenActiveAt = numberOrUndefined(Item?.seen_active_at);
    const reconciledAt = numberOrUndefined(Item?.reconciled_at);
    return {
      account,
      ...(lastEventAt === undefined ? {} : { lastEventAt }),
      ...(seenActiveAt === undefined ? {} : { seenActiveAt }),
      ...(gapFrom === undefined || gapTo === undefined ? {} : { gap: { from: gapFrom, to: gapTo } }),
      ...(typeof Item?.reconcile_cursor === 'string' ? { cursor: Item.reconcile_cursor } : {}),
      ...(reconciledAt === undefined ? {} : { reconciledAt }),
    };
  }

  noteEvents(account: string, atSeconds: number): Promise<void> {
    return this.forward(account, 'last_event_at', atSeconds);
  }

  noteActive(account: string, atSeconds: number): Promise<void> {
    return this.forward(account, 'seen_active_at', atSeconds);
  }

  async openGap(account: string, gap: GapWindow): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { account },
        UpdateExpression: 'SET gap_from = :from, gap_to = :to REMOVE reconcile_cursor',
        ConditionExpression: 'attribute_not_exists(gap_from)',
        ExpressionAttributeValues: { ':from': gap.from, ':to': gap.to },
      }),
    );
  }

  async saveCursor(account: string, cursor: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { account },
        UpdateExpression: 'SET reconcile_cursor = :cursor',
        ExpressionAttributeValues: { ':cursor': cursor },
      }),
    );
  }

  async closeGap(account: string, atSeconds: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { account },
        UpdateExpression: 'SET reconciled_at = :at REMOVE gap_from, gap_to, reconcile_cursor',
        ExpressionAttributeValues: { ':at': atSeconds },
      }),
    );
  }

  /** Sets a time attribute unless the stored one is already as late. */
  private async forward(account: string, attribute: string, atSeconds: number): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { account },
        UpdateExpression: 'SET #at = :at',
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
        ExpressionAttributeNames: { '#at': attribute },
        ExpressionAttributeValues: { ':at': atSeconds },
      }),
    );
  }

  /** A write whose condition failing means there was nothing to do. */
  private async conditional(command: UpdateCommand): Promise<void> {
    try {
      await this.client.send(command);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/**
 * Marks an account's events as arrived at most once per `everyMs` per account and process: the mark is one small
 * write a minute, not one per event. A failed mark is dropped and logged by the caller; it never fails an event.
 */
export class ThrottledActivity {
  private readonly lastMarked = new Map<string, number>();

  constructor(
    private readonly store: Pick<AccountStore, 'noteEvents'>,
    private readonly everyMs: number,
  ) {}

  async arrived(account: string, atMs: number): Promise<void> {
    const last = this.lastMarked.get(account);
    if (last !== undefined && atMs - last < this.everyMs) return;
    this.lastMarked.set(account, atMs);
    try {
      await this.store.noteEvents(account, Math.floor(atMs / 1000));
    } catch (error) {
      // Not marked after all: the next event tries again rather than a minute later.
      if (last === undefined) this.lastMarked.delete(account);
      else this.lastMarked.set(account, last);
      throw error;
    }
  }
}

/**
 * Makes sure each account has its item, once per account and process: listings of every account (`calls`, `replay`
 * without `--account`) find the accounts there, so an account's first events must not be stored before it is.
 */
export class KnownAccounts {
  private readonly known = new Set<string>();

  constructor(
    private readonly store: AccountRegister,
    private readonly now: () => number,
  ) {}

  async ensure(accounts: Iterable<string>): Promise<void> {
    for (const account of new Set(accounts)) {
      if (this.known.has(account)) continue;
      await this.store.register(account, Math.floor(this.now() / 1000));
      this.known.add(account);
    }
  }
}
