import * as z from "zod/mini";
import { isRecord } from "../shared/json.ts";

/** Identifiers longer than this are not CloudTrail's: reject rather than store attacker-sized keys. */
export const MAX_ID_LENGTH = 256;
/** Free text (user agents) is cut to this length. */
export const MAX_TEXT_LENGTH = 512;

const object = z.custom<Record<string, unknown>>(isRecord);
const id = z.string().check(z.minLength(1), z.maxLength(MAX_ID_LENGTH));
const boundedText = z.string().check(z.maxLength(MAX_ID_LENGTH));
/** An optional field of the wrong type is dropped rather than failing the whole record. */
const lenient = <T extends z.core.SomeType>(schema: T) => z.catch(z.optional(schema), undefined);

/** CloudTrail's own time format; anything else is not a CloudTrail record. */
const eventTime = z.string().check(
  z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, "eventTime is not an ISO-8601 UTC time"),
  z.refine((value) => !Number.isNaN(Date.parse(value)), "eventTime is not a valid date"),
);

/**
 * The part of a CloudTrail record the pipeline reads. Everything else in the record is never copied, which
 * is how tokens, request bodies and response bodies stay out of storage.
 */
export const cloudTrailRecordSchema = z.object({
  eventID: id,
  eventTime,
  eventSource: id,
  eventName: id,
  awsRegion: lenient(boundedText),
  sourceIPAddress: lenient(boundedText),
  userAgent: lenient(z.string()),
  recipientAccountId: lenient(boundedText),
  errorCode: lenient(boundedText),
  userIdentity: lenient(object),
  additionalEventData: lenient(object),
  serviceEventDetails: lenient(z.union([object, z.string()])),
  // Usually null (portal events): accepted as such rather than failing and being caught, which is slow.
  requestParameters: lenient(z.nullable(object)),
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

/** Why a record failed the schema, in one line naming the fields. */
export function describeSchemaError(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join(".") || "record";
      if (issue.code === "invalid_type" && issue.input === undefined) return `missing ${path}`;
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
