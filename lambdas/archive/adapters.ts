// The archive function's secondary adapters: the media host over fetch-media, scratch files on local disk, the bucket
// in S3, the calls table in DynamoDB, and `GET /v1/calls/:id` at Aircall.

import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { ChecksumAlgorithm, S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand, NumberValue, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { archiveAttribute, archiveLeaseAttribute } from '../../lib/definitions/media.js';
import { AIRCALL_API_URL } from '../../lib/definitions/pipeline.js';
import type { AircallCredentials } from '../shared/aircall/aircall.js';
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
          UpdateExpression: 'SET #lease = :until',
          ConditionExpression:
            'attribute_exists(#id) AND #account = :account AND attribute_not_exists(#archive) AND ' +
            '(attribute_not_exists(#lease) OR #lease < :now)',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#account': 'account',
            '#archive': archiveAttribute(file.kind),
            '#lease': archiveLeaseAttribute(file.kind),
          },
          ExpressionAttributeValues: {
            ':account': file.account,
            ':until': lease.untilSeconds,
            ':now': lease.nowSeconds,
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
          UpdateExpression: 'SET #archive = :archive REMOVE #lease',
          ConditionExpression:
            'attribute_exists(#id) AND #account = :account AND attribute_not_exists(#archive)',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#account': 'account',
            '#archive': archiveAttribute(file.kind),
            '#lease': archiveLeaseAttribute(file.kind),
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

export interface AircallCallsApiOptions {
  /** The credentials of an account, or undefined when this deployment holds none for it. */
  readonly credentialsFor: (account: string) => Promise<AircallCredentials | undefined>;
  /** @default 'https://api.aircall.io/v1' */
  readonly baseUrl?: string;
  /** Per request, answer body included. @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const authorization = (credentials: AircallCredentials): string =>
  'accessToken' in credentials
    ? `Bearer ${credentials.accessToken}`
    : `Basic ${Buffer.from(`${credentials.apiId}:${credentials.apiToken}`, 'utf8').toString('base64')}`;

const linkOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `GET /v1/calls/:id` over fetch, with the guardian client's auth, timeout and no-redirect rules. The guardian's
 * AircallClient has no call read and keeps its request method private, so this is the one request written here;
 * it does not retry: SQS redelivers the job, which spaces the retries.
 */
export class AircallCallsApi implements AircallCalls {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AircallCallsApiOptions) {
    this.base = (options.baseUrl ?? AIRCALL_API_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async getCall(account: string, callId: string): Promise<CallLookup> {
    const credentials = await this.options.credentialsFor(account);
    if (credentials === undefined) return { status: 'no-credentials' };
    const label = `GET /calls/${callId}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.base}/calls/${encodeURIComponent(callId)}`, {
        headers: { authorization: authorization(credentials), accept: 'application/json' },
        // A redirect would carry the credentials to wherever it points; Aircall's API does not redirect.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      // The error's message only: never the request, which holds the credentials.
      throw new Error(`no answer from Aircall to ${label} within ${this.timeoutMs} ms or no connection`, {
        cause: error,
      });
    }
    const { status } = response;
    if (status === 404) return { status: 'not-found' };
    if (status === 401 || status === 403) return { status: 'refused' };
    // 429, 5xx, a redirect, anything else: thrown, so that SQS tries the job again later.
    if (status < 200 || status > 299) throw new Error(`Aircall answered ${label} with ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Aircall answered ${label} with a body that is not JSON`);
    }
    const call = isRecord(body) && isRecord(body.call) ? body.call : undefined;
    if (call === undefined) throw new Error(`Aircall answered ${label} without a call`);
    return {
      status: 'found',
      call: { recording: linkOf(call.recording), voicemail: linkOf(call.voicemail) },
    };
  }
}
