import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3SinkConfig } from '../config.js';
import { ObjectExistsError, SinkConfigurationError } from '../errors.js';
import type { S3Location } from './layout.js';
import { sha256Hex } from './manifest.js';

/** S3 Object Lock retention for create-only objects (sink config `objectLock: { mode, days }`). */
export interface ObjectLockRetention {
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  readonly days: number;
}

/**
 * The S3 adapter: the few object-store operations exports and verification need, over the real AWS
 * SDK. Credentials come from the standard AWS chain unless the configuration gives them explicitly.
 */
export class S3ObjectStore {
  readonly client: S3Client;

  constructor(private readonly config: Pick<S3SinkConfig, 'region' | 'endpoint' | 'forcePathStyle' | 'credentials'>) {
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      // A copy: the SDK writes bookkeeping ($source) into the credentials object it is given.
      ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    });
  }

  /** Fails fast, before anything is written, when the bucket is unknown or not ours. */
  async preflight(loc: S3Location): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
    } catch (e) {
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
      const where = this.config.endpoint ? ` at ${this.config.endpoint}` : '';
      if (status === 404) throw new SinkConfigurationError('s3', `S3 bucket "${loc.bucket}" does not exist${where}`, { cause: e });
      if (status === 403 || status === 401)
        throw new SinkConfigurationError('s3', `access to S3 bucket "${loc.bucket}"${where} is denied for these credentials`, { cause: e });
      throw new SinkConfigurationError('s3', `S3 bucket "${loc.bucket}"${where} is not reachable: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The credentials the SDK chain resolved, for ClickHouse's `s3` function. */
  async resolvedCredentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> {
    try {
      const c = await this.client.config.credentials();
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
    } catch (e) {
      throw new SinkConfigurationError(
        's3',
        `no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (the standard chain said: ${(e as Error).message})`,
        { cause: e },
      );
    }
  }

  /** The HTTP(S) URL of an object, as ClickHouse's `s3` function expects it. */
  objectUrl(bucket: string, key: string): string {
    const path = key.split('/').map(encodeURIComponent).join('/');
    if (this.config.endpoint) {
      const base = this.config.endpoint.replace(/\/+$/, '');
      if (this.config.forcePathStyle) return `${base}/${bucket}/${path}`;
      const u = new URL(base);
      return `${u.protocol}//${bucket}.${u.host}/${path}`;
    }
    return `https://${bucket}.s3.${this.config.region}.amazonaws.com/${path}`;
  }

  async put(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * Writes an object that must never be overwritten (anchored checkpoints). Sent with `If-None-Match: *`, so
   * S3 refuses atomically (412) when the key exists; and, because S3-compatible stores may ignore that header on PUT
   * (s3rver does), a HEAD first refuses an existing object there too. `lock` adds Object Lock retention headers
   * (`x-amz-object-lock-mode`, `…-retain-until-date` = now + days; the bucket needs Object Lock enabled).
   */
  async putCreateOnly(bucket: string, key: string, body: Uint8Array, contentType: string, lock?: ObjectLockRetention): Promise<void> {
    if ((await this.contentType(bucket, key)) !== null) throw new ObjectExistsError(bucket, key);
    if ((await this.#putIfNoneMatch(bucket, key, body, contentType, lock)) === 'exists') throw new ObjectExistsError(bucket, key);
  }

  /**
   * Create-only too, for objects whose name determines their bytes (export data, manifests): an object already there
   * with the same bytes (an earlier run of the same export) is taken as it is, never written again; with other bytes
   * it is an error naming both digests.
   */
  async putCreateOnlyOrSame(bucket: string, key: string, body: Uint8Array, contentType: string, lock?: ObjectLockRetention): Promise<void> {
    const exists = (await this.contentType(bucket, key)) !== null || (await this.#putIfNoneMatch(bucket, key, body, contentType, lock)) === 'exists';
    if (!exists) return;
    const there = await this.hash(bucket, key);
    const sha256 = sha256Hex(body);
    if (there !== null && there.sha256 !== sha256) throw ObjectExistsError.withOtherBytes(bucket, key, there.sha256, sha256);
  }

  async #putIfNoneMatch(bucket: string, key: string, body: Uint8Array, contentType: string, lock?: ObjectLockRetention): Promise<'written' | 'exists'> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: '*',
          ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(Date.now() + lock.days * 86_400_000) } : {}),
        }),
      );
      return 'written';
    } catch (e) {
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409) return 'exists';
      throw e;
    }
  }

  /**
   * Sets the Content-Type of an object written by someone else (ClickHouse's `s3` function sends none, so S3 stores
   * `binary/octet-stream`): a copy onto itself that replaces the metadata — the bytes stay as they are, on the server.
   * (A single CopyObject takes objects up to 5 GB.)
   */
  async setContentType(bucket: string, key: string, contentType: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        // URL-encoded, but not `=` and `/` (`tenant=…/dt=…`), which some S3-compatible stores (s3rver) do not decode there.
        CopySource: encodeURI(`${bucket}/${key}`).replace(/[#?+]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
      }),
    );
  }

  /** The object's Content-Type, or null when it does not exist. */
  async contentType(bucket: string, key: string): Promise<string | null> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentType ?? null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** The object's bytes, or null when it does not exist. */
  async get(bucket: string, key: string): Promise<Buffer | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** sha256 and size of an object, streamed (objects can be large); null when it does not exist. */
  async hash(bucket: string, key: string): Promise<{ sha256: string; bytes: number } | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const h = createHash('sha256');
      let bytes = 0;
      for await (const chunk of r.Body as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        bytes += chunk.length;
      }
      return { sha256: h.digest('hex'), bytes };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** Every key under the prefix, following continuation tokens page by page. */
  async list(bucket: string, prefix: string, pageSize?: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(pageSize ? { MaxKeys: pageSize } : {}) }),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  destroy(): void {
    this.client.destroy();
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404);
}
