import { z } from "zod";
import { isRecord } from "../shared/json.ts";

/** Identifiers longer than this are not CloudTrail's: reject rather than store attacker-sized keys. */
export const MAX_ID_LENGTH = 256;
/** Free text (user agents) is cut to this length. */
export const MAX_TEXT_LENGTH = 512;

const object = z.custom<Record<string, unknown>>(isRecord);
const id = z.string().min(1).max(MAX_ID_LENGTH);

/** CloudTrail's own time format; anything else is not a CloudTrail record. */
const eventTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, "eventTime is not an ISO-8601 UTC time")
  .refine((value) => !Number.isNaN(Date.parse(value)), "eventTime is not a valid date");

/**
 * The part of a CloudTrail record the pipeline reads. Everything else in the record is never copied, which
 * is how tokens, request bodies and response bodies stay out of storage.
 */
export const cloudTrailRecordSchema = z.object({
  eventID: id,
  eventTime,
  eventSource: id,
  eventName: id,
  awsRegion: z.string().max(MAX_ID_LENGTH).optional().catch(undefined),
  sourceIPAddress: z.string().max(MAX_ID_LENGTH).optional().catch(undefined),
  userAgent: z.string().optional().catch(undefined),
  recipientAccountId: z.string().max(MAX_ID_LENGTH).optional().catch(undefined),
  errorCode: z.string().max(MAX_ID_LENGTH).optional().catch(undefined),
  userIdentity: object.optional().catch(undefined),
  additionalEventData: object.optional().catch(undefined),
  serviceEventDetails: z.union([object, z.string()]).optional().catch(undefined),
  requestParameters: object.nullish().catch(undefined),
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

/** Why a record failed the schema, in one line naming the fields. */
export function describeSchemaError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join(".") || "record";
      if (issue.code === "invalid_type" && issue.input === undefined) return `missing ${path}`;
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
