// The archive function's secondary adapters: the media host over fetch-media, scratch files on local disk, the bucket
// in S3, the calls table in DynamoDB, and `GET /v1/calls/:id` through the shared Aircall client.

import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { ChecksumAlgorithm, S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand, NumberValue, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import {
  archiveAttribute,
  archiveLeaseAttribute,
  archiveLeaseHolderAttribute,
} from '../../lib/definitions/media.js';
import { AircallAuthError, type AircallCredentials } from '../shared/aircall/aircall.js';
import { AircallClient } from '../shared/aircall/aircall-client.js';
import { AircallRateLimiters } from '../shared/aircall/rate-limiter.js';
import type { JsonObject } from '../shared/envelope.js';
import { type FetchMediaOptions, fetchMedia } from './fetch-media.js';
import type {
  AircallCalls,
  CallArchiveStore,
  CallLookup,
  ClaimOutcome,
  Lease,
  MediaArchive,
  MediaDownload,
  MediaFileRef,
  MediaSource,
  ObjectStore,
  ObjectUpload,
  RecordOutcome,
  Scratch,
  ScratchFile,
} from './ports.js';

/** Downloads through fetch-media: allow-list, pinned and checked addresses, size limit, timeouts. */
export class FetchMediaSource implements MediaSource {
  constructor(private readonly options: FetchMediaOptions) {}

  async download(url: string): Promise<MediaDownload> {
    const { body, contentType } = await fetchMedia(url, this.options);
    return { body, contentType };
  }
}

/**
 * Scratch files in a directory of their own (the function's /tmp, or a folder of the local stack's DATA_DIR), each in
 * a new subdirectory readable by this user only.
 */
export class DiskScratch implements Scratch {
  constructor(private readonly directory: string) {}

  /**
   * Empties the directory: what an earlier process left there when it died mid-download. Synchronous, as it runs
   * once, while the handler is built and before any download.
   */
  clear(): this {
    rmSync(this.directory, { recursive: true, force: true });
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    return this;
  }

  async write(body: Readable): Promise<ScratchFile> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const folder = await mkdtemp(join(this.directory, 'media-'));
    const path = join(folder, 'file');
    const remove = () => rm(folder, { recursive: true, force: true });
    try {
      await pipeline(body, createWriteStream(path, { mode: 0o600 }));
    } catch (error) {
      await remove();
      throw error;
    }
    return { open: () => createReadStream(path), remove };
  }
}

export interface S3ObjectStoreOptions {
  /**
   * Bytes per part: the upload holds at most `queueSize` parts (and the one filling) in memory. S3's minimum,
   * 5 MiB, keeps a Lambda's memory far below the file's size. @default 5 MiB
   */
  readonly partSize?: number;
  /** Parts uploaded at once. @default 2 */
  readonly queueSize?: number;
  /** A checksum S3 computes and checks on every part, as well. @default none beyond the SDK's own */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

const MIB = 1024 * 1024;

/** The bucket, written by lib-storage's Upload: one PUT for a small body, a bounded multipart upload otherwise. */
export class S3ObjectStore implements ObjectStore {
  readonly partSize: number;
  readonly queueSize: number;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: S3ObjectStoreOptions = {},
  ) {
    this.partSize = options.partSize ?? 5 * MIB;
    this.queueSize = options.queueSize ?? 2;
  }

  async put({ key, contentType, body, bytes, sha256 }: ObjectUpload): Promise<void> {
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      // A multipart upload that failed is aborted, so no orphaned parts are left to pay for.
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        // Known from the scratch file: the length lets a small file go up in one PUT, checked by S3.
        ContentLength: bytes,
        ContentType: contentType,
        Metadata: { sha256 },
        ...(this.options.checksumAlgorithm === undefined
          ? {}
          : { ChecksumAlgorithm: this.options.checksumAlgorithm }),
      },
    });
    await upload.done();
  }
}

const isConditionFailure = (error: unknown): error is Error & { Item?: unknown } =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An attribute of an item, unmarshalled or still as DynamoDB sent it with a failed condition (`{ S: 'acme' }`). */
const textOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.S === 'string') return value.S;
  return undefined;
};

/** A number attribute, unmarshalled or as DynamoDB sent it with a failed condition (`{ N: '17' }`). */
const numberOf = (value: unknown): number | undefined => {
  if (typeof value === 'number') return value;
  if (isRecord(value) && typeof value.N === 'string') return Number(value.N);
  if (value instanceof NumberValue) return Number(value.toString());
  return undefined;
};

/** The calls table: reads a call's owner and archive, and records an archive with a guarded UpdateItem. */
export class DynamoCallArchiveStore implements CallArchiveStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(file: MediaFileRef, lease: Lease): Promise<ClaimOutcome> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: NumberValue.from(file.callId) },
          UpdateExpression: 'SET #lease = :until, #holder = :holder',
          ConditionExpression:
            'attribute_exists(#id) AND #account = :account AND attribute_not_exists(#archive) AND ' +
            '(attribute_not_exists(#lease) OR #lease < :now OR #holder = :holder)',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#account': 'account',
            '#archive': archiveAttribute(file.kind),
            '#lease': archiveLeaseAttribute(file.kind),
            '#holder': archiveLeaseHolderAttribute(file.kind),
          },
          ExpressionAttributeValues: {
            ':account': file.account,
            ':until': lease.untilSeconds,
            ':now': lease.nowSeconds,
            ':holder': lease.holder,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = isRecord(error.Item) ? error.Item : await this.owner(file);
      if (item === undefined) return 'missing';
      if (textOf(item.account) !== file.account) return 'foreign';
      if (item[archiveAttribute(file.kind)] !== undefined) return 'archived';
      const until = numberOf(item[archiveLeaseAttribute(file.kind)]);
      // The lease ran out between the write and the read: the next attempt of this job takes it.
      if (until === undefined || until < lease.nowSeconds)
        throw new Error(`the lease on the ${file.kind} of call ${file.callId} changed while it was claimed`);
      return 'busy';
    }
  }

  async record(file: MediaFileRef, archive: MediaArchive): Promise<RecordOutcome> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: NumberValue.from(file.callId) },
          // One attribute set and the lease dropped, nothing else: a late call event keeps its own attributes, and
          // this keeps its own.
          UpdateExpression: 'SET #archive = :archive REMOVE #lease, #holder',
          ConditionExpression:
            'attribute_exists(#id) AND #account = :account AND attribute_not_exists(#archive)',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#account': 'account',
            '#archive': archiveAttribute(file.kind),
            '#lease': archiveLeaseAttribute(file.kind),
            '#holder': archiveLeaseHolderAttribute(file.kind),
          },
          ExpressionAttributeValues: { ':account': file.account, ':archive': archive },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'recorded';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // dynalite returns no item with the failure; DynamoDB does. Either way, what stands now says why.
      const item = isRecord(error.Item) ? error.Item : await this.owner(file);
      if (item === undefined) return 'missing';
      if (textOf(item.account) !== file.account) return 'foreign';
      return 'already-archived';
    }
  }

  async release(file: MediaFileRef, lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: NumberValue.from(file.callId) },
          UpdateExpression: 'REMOVE #lease, #holder',
          // Only this job's own lease: one another job took after it ran out stays.
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: {
            '#lease': archiveLeaseAttribute(file.kind),
            '#holder': archiveLeaseHolderAttribute(file.kind),
          },
          ExpressionAttributeValues: { ':holder': lease.holder },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The item's id, account, archive and lease of that kind, read strongly consistent: undefined when there is none. */
  private async owner(file: MediaFileRef): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { id: NumberValue.from(file.callId) },
        ProjectionExpression: '#id, #account, #archive, #lease',
        ExpressionAttributeNames: {
          '#id': 'id',
          '#account': 'account',
          '#archive': archiveAttribute(file.kind),
          '#lease': archiveLeaseAttribute(file.kind),
        },
        ConsistentRead: true,
      }),
    );
    return Item;
  }
}

export interface AircallClientCallsOptions {
  /** The credentials of an account, or undefined when this deployment holds none for it. */
  readonly credentialsFor: (account: string) => Promise<AircallCredentials | undefined>;
  /** @default 'https://api.aircall.io/v1' */
  readonly baseUrl?: string;
  /** Per request, answer body included. @default 5000 */
  readonly timeoutMs?: number;
  /**
   * What one lookup may spend waiting on 429s. Short: a longer wait is better left to SQS, which redelivers the job
   * after its visibility timeout without holding the function. @default 10000
   */
  readonly maxRateLimitWaitMs?: number;
  /** One limiter per account, kept across the jobs of a warm function. @default a registry of its own, no spacing */
  readonly limiters?: AircallRateLimiters;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const linkOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The archive's `GET /v1/calls/:id` through the shared AircallClient: its auth, timeout, no-redirect rule, retries of
 * a 5xx and waits on a 429. What a retry of the job may mend is thrown, so that SQS tries the job again later.
 */
export class AircallClientCalls implements AircallCalls {
  private readonly limiters: AircallRateLimiters;

  constructor(private readonly options: AircallClientCallsOptions) {
    this.limiters = options.limiters ?? new AircallRateLimiters();
  }

  async getCall(account: string, callId: string): Promise<CallLookup> {
    const credentials = await this.options.credentialsFor(account);
    if (credentials === undefined) return { status: 'no-credentials' };
    // A client per lookup, so that credentials the secret rotated are used at once; the limiter carries the pacing.
    const client = new AircallClient({
      credentials,
      limiter: this.limiters.for(account),
      maxRateLimitWaitMs: this.options.maxRateLimitWaitMs ?? 10_000,
      ...(this.options.baseUrl === undefined ? {} : { baseUrl: this.options.baseUrl }),
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
      ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }),
    });
    let call: JsonObject | undefined;
    try {
      call = await client.getCall(callId);
    } catch (error) {
      if (error instanceof AircallAuthError) return { status: 'refused' };
      throw error;
    }
    if (call === undefined) return { status: 'not-found' };
    return {
      status: 'found',
      call: { recording: linkOf(call.recording), voicemail: linkOf(call.voicemail) },
    };
  }
}
