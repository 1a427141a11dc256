import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  type ListObjectsV2CommandOutput,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import { isLogObject, type ObjectSource, type S3Location } from "./s3.ts";

/** The S3 adapter of `ObjectSource`, kept apart so nothing that reads files loads the S3 SDK. */
export class S3ObjectSource implements ObjectSource {
  constructor(private readonly client: S3Client) {}

  async *list(location: S3Location): AsyncGenerator<string> {
    for await (const page of this.pages(location)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        if (key && isLogObject(key)) yield key;
      }
    }
  }

  /** The "folders" right under a prefix (`Delimiter: "/"`), e.g. the accounts under `AWSLogs/`. */
  async *listFolders(location: S3Location): AsyncGenerator<string> {
    for await (const page of this.pages(location, "/"))
      for (const folder of page.CommonPrefixes ?? []) if (folder.Prefix) yield folder.Prefix;
  }

  /** Every page of the listing (the SDK's paginator follows the continuation tokens). */
  private pages(location: S3Location, delimiter?: string): AsyncIterable<ListObjectsV2CommandOutput> {
    return paginateListObjectsV2(
      { client: this.client },
      { Bucket: location.bucket, Prefix: location.prefix, ...(delimiter ? { Delimiter: delimiter } : {}) },
    );
  }

  async open(bucket: string, key: string): Promise<Readable> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return object.Body as Readable;
  }
}
