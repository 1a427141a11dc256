import type { AuditEvent } from "./types.ts";

/**
 * The `userIdentity` field paths each shape is known to carry, from `EVENTS.md` and the published events
 * (`/work/shared/reference/events`, `events/`). AWS's 2024 and 2025 changes each added fields before anything
 * else changed (`onBehalfOf`, `credentialId`, then `type: "IdentityCenterUser"`): a path outside its shape's set
 * is what the canary reports as a new field. Nested objects are walked (`onBehalfOf.userId`); an array or an
 * empty object is a leaf. IAM principals (`AssumedRole`…, even when acting for a user) are checked against the
 * `admin` set.
 */
const OLD = ["type", "principalId", "userName", "accountId", "accessKeyId", "arn"];
const IDENTITY_CENTER = ["credentialId", "onBehalfOf.userId", "onBehalfOf.identityStoreArn"];

/** IAM principals' `userIdentity` (CloudTrail's userIdentity element reference): admins and services. */
const IAM_PRINCIPAL = [
  ...OLD,
  "invokedBy",
  "identityProvider",
  "sessionContext.attributes.creationDate",
  "sessionContext.attributes.mfaAuthenticated",
  "sessionContext.sessionIssuer.type",
  "sessionContext.sessionIssuer.principalId",
  "sessionContext.sessionIssuer.arn",
  "sessionContext.sessionIssuer.accountId",
  "sessionContext.sessionIssuer.userName",
  "sessionContext.webIdFederationData",
  "sessionContext.sourceIdentity",
  "sessionContext.ec2RoleDelivery",
  "sessionContext.assumedRoot",
  "inScopeOf.issuerType",
  "inScopeOf.credentialsIssuedTo",
  "inScopeOf.credentialsIssuedToVersion",
  // An admin role session acting for an Identity Center user (role sessions, CreateTokenWithIAM).
  ...IDENTITY_CENTER,
];

export const KNOWN_IDENTITY_FIELDS: Readonly<Record<AuditEvent["shape"], ReadonlySet<string>>> = {
  old: new Set(OLD),
  transitional: new Set([...OLD, ...IDENTITY_CENTER]),
  // The new shape dropped userName and principalId.
  new: new Set(["type", "accountId", "accessKeyId", "arn", ...IDENTITY_CENTER]),
  // Failed sign-ins of the new era and SCIM's bearer-token calls: no user fields at all.
  anonymous: new Set(["type", "principalId", "accountId", "accessKeyId", "arn"]),
  admin: new Set(IAM_PRINCIPAL),
};

/**
 * Objects whose keys are data, not schema (web identity federation attributes name the provider's claims):
 * known as a whole, never walked.
 */
const OPAQUE = new Set(["sessionContext.webIdFederationData"]);

/** Bounds on what one record can add, whatever it carries. */
const MAX_DEPTH = 4;
const MAX_PATH_LENGTH = 128;
export const MAX_NEW_FIELDS_PER_EVENT = 8;

/**
 * The `userIdentity` paths of one record that its shape's known set lacks, sorted, at most
 * `MAX_NEW_FIELDS_PER_EVENT`; `undefined` when there are none (every record of a known shape). Only the field
 * names are read, never their values.
 */
export function newIdentityFields(
  userIdentity: Record<string, unknown> | undefined,
  shape: AuditEvent["shape"],
): string[] | undefined {
  if (userIdentity === undefined) return undefined;
  const known = KNOWN_IDENTITY_FIELDS[shape];
  const found = unknownPaths(userIdentity, "", 1, known, undefined);
  return found ? [...new Set(found)].sort() : undefined;
}

/**
 * The paths under `value` that `known` lacks, added to `found` (made when it is `undefined`), which is
 * returned. A function of the module, not an arrow made per record: V8 keeps a closure's optimized code only
 * while a closure holding it lives, so an arrow made per record is compiled again after each full garbage
 * collection (docs/benchmarks.md).
 */
function unknownPaths(
  value: Record<string, unknown>,
  prefix: string,
  depth: number,
  known: ReadonlySet<string>,
  found: string[] | undefined,
): string[] | undefined {
  // for…in over a small object: no entry arrays allocated for the common case of nothing new.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const child = value[key];
    const isObject =
      typeof child === "object" && child !== null && !Array.isArray(child) && !OPAQUE.has(path);
    if (isObject && depth < MAX_DEPTH && hasKeys(child as Record<string, unknown>)) {
      found = unknownPaths(child as Record<string, unknown>, path, depth + 1, known, found);
    } else if (!known.has(path)) {
      found ??= [];
      if (found.length < MAX_NEW_FIELDS_PER_EVENT) found.push(path.slice(0, MAX_PATH_LENGTH));
    }
  }
  return found;
}

function hasKeys(value: Record<string, unknown>): boolean {
  for (const _ in value) return true;
  return false;
}
