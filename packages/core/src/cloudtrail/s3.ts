import type { Readable } from "node:stream";
import { UsageError } from "../shared/errors.ts";

/** `s3://bucket/prefix` split into its parts. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match?.[1]) throw new UsageError(`${uri} is not an s3://bucket/prefix address`);
  return { bucket: match[1], prefix: match[2] ?? "" };
}

/** The two S3 operations the reader needs, so the reader itself never imports the SDK. */
export interface ObjectSource {
  /** Object keys under a prefix, in S3's (lexicographic) order, page by page. */
  list(location: S3Location): AsyncGenerator<string>;
  open(bucket: string, key: string): Promise<Readable>;
}

/** CloudTrail log objects only: digests and other files in the bucket hold no events. */
export const LOG_OBJECT = /\.json(\.gz)?$/;

export function isLogObject(key: string): boolean {
  return LOG_OBJECT.test(key) && !key.includes("/CloudTrail-Digest/");
}
