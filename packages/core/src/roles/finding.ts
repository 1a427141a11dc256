import type { ExternalId } from "../identity/port.ts";
import { UsageError } from "../shared/errors.ts";
import { isRecord, recordField, stringField } from "../shared/json.ts";
import type { AccessKeyAnswer, RoleQueries, RoleSessionView, SignInSummary } from "./queries.ts";
import { ACCESS_KEY_ID, SSO_ROLE_PREFIX } from "./types.ts";

/**
 * What idc-audit reads of a GuardDuty finding: who it is about. A finding about an Identity Center role session
 * names its access key (`resource.accessKeyDetails`); the rest of the finding is not copied.
 */
export interface FindingReference {
  readonly findingId: string;
  readonly type: string | null;
  readonly severity: number | null;
  readonly accountId: string | null;
  readonly region: string | null;
  readonly accessKeyId: string | null;
  readonly principalId: string | null;
  readonly userName: string | null;
  readonly userType: string | null;
  /** The finding is about a role session of an `AWSReservedSSO_*` role, as far as its principal says. */
  readonly identityCenterRole: boolean;
}

export interface FindingAnswer extends Partial<Omit<AccessKeyAnswer, "accessKeyId">> {
  readonly finding: FindingReference;
  /** Why no person could be named, when none is. */
  readonly unanswered?: string;
}

/**
 * The findings in a document as the console exports it (the finding), as `aws guardduty get-findings` prints
 * it (`{"Findings": […]}`, PascalCase), as EventBridge delivers it (`detail`), or a list of these.
 */
export function findingsOf(document: unknown): FindingReference[] {
  if (Array.isArray(document)) return document.flatMap(findingsOf);
  if (!isRecord(document)) throw new UsageError("a GuardDuty finding is a JSON object");
  const findings = document.Findings ?? document.findings;
  if (Array.isArray(findings)) return findings.flatMap(findingsOf);
  const detailType = stringField(document, "detail-type");
  if (detailType !== undefined) {
    // An EventBridge event of another kind has an `id` too (the event's): it must not be read as a finding.
    const detail = recordField(document, "detail");
    if (detailType !== "GuardDuty Finding" || !detail) {
      throw new UsageError(`the EventBridge event is a "${detailType}", not a GuardDuty finding`);
    }
    return findingsOf(detail);
  }
  const id = field(document, "id");
  if (id === undefined) throw new UsageError("the document is not a GuardDuty finding (it has no id)");
  const details =
    recordField(recordField(document, "resource") ?? recordField(document, "Resource"), "accessKeyDetails") ??
    recordField(recordField(document, "Resource"), "AccessKeyDetails");
  const accessKeyId = field(details, "accessKeyId");
  const principalId = field(details, "principalId");
  const userName = field(details, "userName");
  const severity = document.severity ?? document.Severity;
  return [
    {
      findingId: id,
      type: field(document, "type") ?? null,
      severity: typeof severity === "number" ? severity : null,
      accountId: field(document, "accountId") ?? null,
      region: field(document, "region") ?? null,
      accessKeyId: accessKeyId !== undefined && ACCESS_KEY_ID.test(accessKeyId) ? accessKeyId : null,
      principalId: principalId ?? null,
      userName: userName ?? null,
      userType: field(details, "userType") ?? null,
      // GuardDuty names an assumed role's role in userName; its principalId (AROA…:session) names no role.
      identityCenterRole: userName?.startsWith(SSO_ROLE_PREFIX) ?? false,
    },
  ];
}

/** A field in the casing of either export (`accessKeyId` or `AccessKeyId`). */
function field(object: Record<string, unknown> | undefined, name: string): string | undefined {
  return stringField(object, name) ?? stringField(object, `${name[0]?.toUpperCase()}${name.slice(1)}`);
}

/** The person, portal session and sign-in behind a finding's access key. */
export async function answerFinding(queries: RoleQueries, finding: FindingReference): Promise<FindingAnswer> {
  if (finding.accessKeyId === null) return { finding, unanswered: "the finding names no access key" };
  const answer = await queries.accessKey(finding.accessKeyId);
  if (!answer) {
    return {
      finding,
      unanswered: `no role session of Identity Center is stored for access key ${finding.accessKeyId}`,
    };
  }
  const { accessKeyId: _key, ...rest } = answer;
  return { finding, ...rest };
}

/** GuardDuty's severity bands (1.0–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical). */
export type FindingSeverity = "low" | "medium" | "high" | "critical";

/**
 * What the alert topic receives for a GuardDuty finding about an Identity Center role session: who the key
 * belongs to and where they signed in, for the responder's first pivot. Nothing of the finding but what names
 * it is copied, and nothing of the role session's events.
 */
export interface FindingAlert {
  readonly kind: "guardduty-finding";
  readonly severity: FindingSeverity;
  readonly finding: FindingReference;
  readonly person: {
    readonly identityStoreId: string;
    readonly userId: string;
    readonly userName: string | null;
    readonly displayName: string | null;
    readonly emails: readonly string[];
  } | null;
  /** The person's Okta / Entra / AD ids, to pivot into the identity provider. */
  readonly externalIds: readonly ExternalId[];
  /** The portal session whose grant issued the role session (`timeline CRED`). */
  readonly credentialId: string | null;
  /** The sign-in that opened that portal session: its time, address and factors. */
  readonly signIn: SignInSummary | null;
  readonly roleSession: Pick<
    RoleSessionView,
    | "id"
    | "accountId"
    | "roleName"
    | "permissionSet"
    | "sessionName"
    | "creationDate"
    | "link"
    | "attribution"
  >;
}

/** Where answered findings go: the alert topic (SNS) in AWS. */
export interface FindingSink {
  publish(alert: FindingAlert): Promise<void>;
}
