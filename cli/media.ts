// The media bucket as the CLI reads it: an object's bytes as a stream, or a presigned link to them, through an S3
// client made on first use so that commands which never touch media open no connection to it.

import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface MediaBucket {
  /** The bucket's name, for messages. */
  readonly name: string;
  /** Where jobs that no retry could archive end up, when the target says. */
  readonly deadLetterQueueUrl: string | undefined;
  /** Starts a GET of the object: its body, to be read once and streamed, never held whole. */
  read(key: string): Promise<Readable>;
  /** A GET link to the object, valid for `expiresInSeconds`. */
  presign(key: string, expiresInSeconds: number): Promise<string>;
  /** Releases the client's sockets, if one was made. */
  close(): void;
}

export interface S3MediaBucketOptions {
  readonly name: string;
  readonly deadLetterQueueUrl?: string | undefined;
  /** The client's configuration: the region and, locally, the emulator's endpoint and credentials. */
  readonly client: S3ClientConfig;
}

const isReadable = (body: unknown): body is Readable =>
  typeof body === 'object' && body !== null && 'pipe' in body && typeof body.pipe === 'function';

export const s3MediaBucket = (options: S3MediaBucketOptions): MediaBucket => {
  let client: S3Client | undefined;
  const s3 = (): S3Client => {
    client ??= new S3Client(options.client);
    return client;
  };
  const get = (key: string) => new GetObjectCommand({ Bucket: options.name, Key: key });
  return {
    name: options.name,
    deadLetterQueueUrl: options.deadLetterQueueUrl,
    read: async (key) => {
      const { Body } = await s3().send(get(key));
      // In Node.js the SDK hands the body over as the response stream itself.
      if (!isReadable(Body)) throw new Error(`s3://${options.name}/${key} came back without a readable body`);
      return Body;
    },
    presign: (key, expiresInSeconds) => getSignedUrl(s3(), get(key), { expiresIn: expiresInSeconds }),
    close: () => client?.destroy(),
  };
};
