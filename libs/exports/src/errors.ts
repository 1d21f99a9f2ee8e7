/**
 * A sink's configuration cannot work (unknown bucket, denied credentials, wrong HEC token, unknown
 * index, acknowledgement disabled on the token…). Raised before anything is written or any
 * checkpoint moves; the message says what to fix.
 */
export class SinkConfigurationError extends Error {
  override readonly name = 'SinkConfigurationError';
  constructor(
    readonly sink: 's3' | 'splunk',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The sink stayed unavailable through every retry; nothing past the checkpoint is considered delivered. */
export class SinkUnavailableError extends Error {
  override readonly name = 'SinkUnavailableError';
  constructor(
    readonly sink: 's3' | 'splunk',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A create-only write found the object already there (S3 `If-None-Match: *` answered 412, or it was seen first). */
export class ObjectExistsError extends Error {
  override readonly name = 'ObjectExistsError';
  constructor(
    readonly bucket: string,
    readonly key: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(`s3://${bucket}/${key} exists already${options?.detail ? ` ${options.detail}` : ''}: create-only objects are never overwritten`, options);
  }

  /** The object there holds other bytes than the ones this write would have put. */
  static withOtherBytes(bucket: string, key: string, found: string, wanted: string): ObjectExistsError {
    return new ObjectExistsError(bucket, key, { detail: `with other bytes (sha256 ${found}, this write ${wanted})` });
  }
}
