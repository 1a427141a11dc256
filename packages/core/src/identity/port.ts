import type { UserKey } from "../normalize/types.ts";

export interface ExternalId {
  readonly issuer: string;
  readonly id: string;
}

/** What idc-audit keeps of a person. */
export interface UserProfile {
  readonly identityStoreId: string;
  readonly userId: string;
  readonly userName?: string;
  readonly displayName?: string;
  readonly emails: readonly string[];
  readonly externalIds: readonly ExternalId[];
}

/**
 * `found`: the directory knows the user. `deleted`: it answered that no such user exists (any more): the
 * events stay, marked. `unavailable`: no directory, or it failed: the events stay, marked unenriched, and
 * `idc-audit enrich` tries again later.
 */
export type DescribeResult =
  | { readonly status: "found"; readonly profile: UserProfile }
  | { readonly status: "deleted" }
  | { readonly status: "unavailable"; readonly reason: string };

/** One group: like users, the same groupId string in two identity stores is two groups. */
export interface GroupKey {
  readonly identityStoreId: string;
  readonly groupId: string;
}

/** What idc-audit keeps of a group: since AWS's change, events hide its `displayName`; the directory has it. */
export interface GroupProfile {
  readonly identityStoreId: string;
  readonly groupId: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly externalIds: readonly ExternalId[];
}

/** Like `DescribeResult`, for a group. */
export type DescribeGroupResult =
  | { readonly status: "found"; readonly profile: GroupProfile }
  | { readonly status: "deleted" }
  | { readonly status: "unavailable"; readonly reason: string };

/** The user directory port: Identity Store, an export of it, or nothing. */
export interface UserDirectory {
  /** Short name for logs and output (`identity-store`, `export`, `none`). */
  readonly kind: string;
  /** The store old-shape user names belong to, when the directory knows it. */
  readonly identityStoreId: string | undefined;
  describe(user: UserKey): Promise<DescribeResult>;
  /** Resolves a sign-in name to its user, or undefined when no user has that name. */
  findByUserName(userName: string): Promise<UserKey | undefined>;
  findByExternalId(externalId: ExternalId): Promise<UserKey | undefined>;
  /**
   * Every user with this email. Usually one; two when a person left and was re-hired under a new user id,
   * which is why a role session named by an email can be ambiguous.
   */
  findByEmail(email: string): Promise<UserKey[]>;
  /**
   * The group's name and ids (`DescribeGroup`, or a `list-groups` export). Optional: a directory without
   * groups leaves group names unresolved, as if it were unavailable.
   */
  describeGroup?(group: GroupKey): Promise<DescribeGroupResult>;
}

export const noDirectory: UserDirectory = {
  kind: "none",
  identityStoreId: undefined,
  async describe() {
    return { status: "unavailable", reason: "no user directory configured" };
  },
  async findByUserName() {
    return undefined;
  },
  async findByExternalId() {
    return undefined;
  },
  async findByEmail() {
    return [];
  },
};

export function userKeyString(user: UserKey): string {
  return `${user.identityStoreId}/${user.userId}`;
}

export function groupKeyString(group: GroupKey): string {
  return `${group.identityStoreId}/${group.groupId}`;
}
