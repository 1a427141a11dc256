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

const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const isEventTime = (value: string) => !Number.isNaN(Date.parse(value));

/** CloudTrail's own time format; anything else is not a CloudTrail record. */
const eventTime = z
  .string()
  .check(
    z.regex(EVENT_TIME, "eventTime is not an ISO-8601 UTC time"),
    z.refine(isEventTime, "eventTime is not a valid date"),
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
  // Read by role sessions only: the access key an STS call issued (never its secret or token) and the ARNs a
  // call touched.
  responseElements: lenient(z.nullable(object)),
  resources: lenient(z.array(z.unknown())),
  readOnly: lenient(z.boolean()),
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

type ParseResult = ReturnType<typeof cloudTrailRecordSchema.safeParse>;

/**
 * Parses a record with `cloudTrailRecordSchema`. Nearly every record is a well-formed CloudTrail record: for
 * those, a direct check of the same rules builds the same output at a fraction of zod's cost (zod took more
 * time per record than `JSON.parse`). Anything the direct check is not sure of (a missing or wrong-typed
 * field, however lenient the schema is about it) goes to zod, which stays the one authority on what a record
 * is and on the error it gets. A test holds the two to the same output on fuzzed records.
 */
export function parseCloudTrailRecord(raw: unknown): ParseResult {
  const data = wellFormedRecord(raw);
  return data !== undefined ? { success: true, data } : cloudTrailRecordSchema.safeParse(raw);
}

const isId = (value: unknown): value is string =>
  typeof value === "string" && value.length >= 1 && value.length <= MAX_ID_LENGTH;
const isBoundedText = (value: unknown): value is string =>
  typeof value === "string" && value.length <= MAX_ID_LENGTH;

/** The schema's output for a record every field of which is as the schema wants it, else `undefined`. */
export function wellFormedRecord(raw: unknown): CloudTrailRecord | undefined {
  if (!isRecord(raw)) return undefined;
  const { eventID, eventTime: time, eventSource, eventName } = raw;
  if (!isId(eventID) || !isId(eventSource) || !isId(eventName)) return undefined;
  if (typeof time !== "string" || !EVENT_TIME.test(time) || !isEventTime(time)) return undefined;
  const record: Record<string, unknown> = { eventID, eventTime: time, eventSource, eventName };
  for (const key of BOUNDED_TEXT_FIELDS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!isBoundedText(value)) return undefined;
    record[key] = value;
  }
  const { userAgent, userIdentity, additionalEventData, serviceEventDetails, requestParameters } = raw;
  if (userAgent !== undefined) {
    if (typeof userAgent !== "string") return undefined;
    record.userAgent = userAgent;
  }
  if (userIdentity !== undefined) {
    if (!isRecord(userIdentity)) return undefined;
    record.userIdentity = userIdentity;
  }
  if (additionalEventData !== undefined) {
    if (!isRecord(additionalEventData)) return undefined;
    record.additionalEventData = additionalEventData;
  }
  if (serviceEventDetails !== undefined) {
    if (!isRecord(serviceEventDetails) && typeof serviceEventDetails !== "string") return undefined;
    record.serviceEventDetails = serviceEventDetails;
  }
  if (requestParameters !== undefined) {
    if (requestParameters !== null && !isRecord(requestParameters)) return undefined;
    record.requestParameters = requestParameters;
  }
  const { responseElements, resources, readOnly } = raw;
  if (responseElements !== undefined) {
    if (responseElements !== null && !isRecord(responseElements)) return undefined;
    record.responseElements = responseElements;
  }
  if (resources !== undefined) {
    if (!Array.isArray(resources)) return undefined;
    record.resources = resources;
  }
  if (readOnly !== undefined) {
    if (typeof readOnly !== "boolean") return undefined;
    record.readOnly = readOnly;
  }
  return record as CloudTrailRecord;
}

const BOUNDED_TEXT_FIELDS = ["awsRegion", "sourceIPAddress", "recipientAccountId", "errorCode"] as const;

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
