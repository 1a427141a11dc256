import { readFile } from "node:fs/promises";
import * as z from "zod/mini";
import type { UserKey } from "../normalize/types.ts";
import { appendTo } from "../shared/collections.ts";
import { UsageError } from "../shared/errors.ts";
import { parseUntrustedJson } from "../shared/json.ts";
import {
  type DescribeGroupResult,
  type DescribeResult,
  type ExternalId,
  type GroupKey,
  type GroupProfile,
  groupKeyString,
  type UserDirectory,
  type UserProfile,
  userKeyString,
} from "./port.ts";

/** One user as `aws identitystore list-users` prints it (the fields idc-audit reads). */
const exportedUserSchema = z.object({
  UserId: z.string().check(z.minLength(1)),
  IdentityStoreId: z.optional(z.string().check(z.minLength(1))),
  UserName: z.optional(z.string()),
  DisplayName: z.optional(z.string()),
  Emails: z.optional(z.array(z.object({ Value: z.optional(z.string()), Primary: z.optional(z.boolean()) }))),
  ExternalIds: z.optional(z.array(z.object({ Issuer: z.string(), Id: z.string() }))),
});
const exportSchema = z.object({
  Users: z.array(exportedUserSchema),
  IdentityStoreId: z.optional(z.string()),
});

/** One group as `aws identitystore list-groups` (or `describe-group`) prints it. */
const exportedGroupSchema = z.object({
  GroupId: z.string().check(z.minLength(1)),
  IdentityStoreId: z.optional(z.string().check(z.minLength(1))),
  DisplayName: z.optional(z.string()),
  Description: z.optional(z.string()),
  ExternalIds: z.optional(z.array(z.object({ Issuer: z.string(), Id: z.string() }))),
});
const groupExportSchema = z.object({
  Groups: z.array(exportedGroupSchema),
  IdentityStoreId: z.optional(z.string()),
});

export function groupProfileFromIdentityStore(
  identityStoreId: string,
  group: z.infer<typeof exportedGroupSchema>,
): GroupProfile {
  return {
    identityStoreId,
    groupId: group.GroupId,
    ...(group.DisplayName ? { displayName: group.DisplayName } : {}),
    ...(group.Description ? { description: group.Description } : {}),
    externalIds: (group.ExternalIds ?? []).map((externalId) => ({
      issuer: externalId.Issuer,
      id: externalId.Id,
    })),
  };
}

/** Which `aws identitystore` listing a document is, told by its content (the file name says nothing). */
export function exportKind(document: unknown): "list-users" | "list-groups" | undefined {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return undefined;
  if (Object.hasOwn(document, "Users")) return "list-users";
  if (Object.hasOwn(document, "Groups")) return "list-groups";
  return undefined;
}

export function profileFromIdentityStore(
  identityStoreId: string,
  user: z.infer<typeof exportedUserSchema>,
): UserProfile {
  const emails = [...(user.Emails ?? [])]
    .sort((a, b) => Number(b.Primary ?? false) - Number(a.Primary ?? false))
    .flatMap((email) => (email.Value ? [email.Value] : []));
  return {
    identityStoreId,
    userId: user.UserId,
    ...(user.UserName ? { userName: user.UserName } : {}),
    ...(user.DisplayName ? { displayName: user.DisplayName } : {}),
    emails,
    externalIds: (user.ExternalIds ?? []).map((externalId) => ({
      issuer: externalId.Issuer,
      id: externalId.Id,
    })),
  };
}

/**
 * A directory read from the JSON `aws identitystore list-users --identity-store-id d-…` prints: the way to
 * enrich offline, or where the pipeline may not call Identity Store.
 */
export class ExportDirectory implements UserDirectory {
  readonly kind = "export";
  readonly identityStoreId: string | undefined;
  private readonly byKey = new Map<string, UserProfile>();
  private readonly byUserName = new Map<string, UserKey>();
  private readonly byExternalId = new Map<string, UserKey>();
  private readonly byEmail = new Map<string, UserKey[]>();
  private readonly groups = new Map<string, GroupProfile>();

  constructor(
    profiles: readonly UserProfile[],
    identityStoreId?: string,
    groups: readonly GroupProfile[] = [],
    /** Whether a `list-users` export was given: without one, a user it does not list is unknown, not deleted. */
    private readonly listsUsers = true,
  ) {
    this.identityStoreId = identityStoreId ?? profiles[0]?.identityStoreId ?? groups[0]?.identityStoreId;
    for (const group of groups) this.groups.set(groupKeyString(group), group);
    for (const profile of profiles) {
      const key = { identityStoreId: profile.identityStoreId, userId: profile.userId };
      this.byKey.set(userKeyString(key), profile);
      if (profile.userName) this.byUserName.set(profile.userName.toLowerCase(), key);
      for (const externalId of profile.externalIds) this.byExternalId.set(externalIdKey(externalId), key);
      for (const email of new Set(profile.emails.map((value) => value.toLowerCase()))) {
        appendTo(this.byEmail, email, key);
      }
    }
  }

  static async fromFile(path: string, identityStoreId?: string): Promise<ExportDirectory> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read directory export ${path}: ${(error as Error).message}`);
    }
    return ExportDirectory.fromJson(parseExport(text, path), identityStoreId, path);
  }

  /**
   * Several exports as one directory (`--directory` given more than once): each a `list-users` or a
   * `list-groups` listing, told apart by content.
   */
  static async fromFiles(paths: readonly string[], identityStoreId?: string): Promise<ExportDirectory> {
    const parts = await Promise.all(paths.map((path) => ExportDirectory.fromFile(path, identityStoreId)));
    return ExportDirectory.merge(parts, identityStoreId);
  }

  static merge(parts: readonly ExportDirectory[], identityStoreId?: string): ExportDirectory {
    const users = parts.flatMap((part) => [...part.byKey.values()]);
    const groups = parts.flatMap((part) => [...part.groups.values()]);
    const storeId = identityStoreId ?? parts.find((part) => part.identityStoreId)?.identityStoreId;
    return new ExportDirectory(
      users,
      storeId,
      groups,
      parts.some((part) => part.listsUsers),
    );
  }

  /** A `list-users` or `list-groups` document; `source` names it in errors (a path, or "directory export"). */
  static fromJson(document: unknown, identityStoreId?: string, source = "directory export"): ExportDirectory {
    const kind = exportKind(document);
    if (kind === undefined) {
      throw new UsageError(
        `${source} is neither 'aws identitystore list-users' nor 'list-groups' output (no "Users" or "Groups" list)`,
      );
    }
    if (kind === "list-groups") return groupsFromJson(document, identityStoreId, source);
    const parsed = exportSchema.safeParse(document);
    if (!parsed.success) {
      throw new UsageError(
        `${source} is not the output of 'aws identitystore list-users': ${describeIssue(parsed.error.issues[0])}`,
      );
    }
    const storeId = identityStoreId ?? parsed.data.IdentityStoreId;
    const profiles = parsed.data.Users.map((user) => {
      const userStore = user.IdentityStoreId ?? storeId;
      if (userStore === undefined) {
        throw new UsageError(
          `${source}: user ${user.UserId} has no IdentityStoreId (pass --identity-store-id)`,
        );
      }
      return profileFromIdentityStore(userStore, user);
    });
    return new ExportDirectory(profiles, storeId);
  }

  async describe(user: UserKey): Promise<DescribeResult> {
    const profile = this.byKey.get(userKeyString(user));
    if (profile) return { status: "found", profile };
    // Only a list of the users can say one is gone; a groups-only directory must not mark everyone deleted.
    return this.listsUsers
      ? { status: "deleted" }
      : { status: "unavailable", reason: "no list-users export given" };
  }

  async findByUserName(userName: string): Promise<UserKey | undefined> {
    return this.byUserName.get(userName.toLowerCase());
  }

  async findByExternalId(externalId: ExternalId): Promise<UserKey | undefined> {
    return this.byExternalId.get(externalIdKey(externalId));
  }

  async findByEmail(email: string): Promise<UserKey[]> {
    return [...(this.byEmail.get(email.toLowerCase()) ?? [])];
  }

  /** A group the exports do not list is unknown to them, not deleted: only `DescribeGroup` can say deleted. */
  async describeGroup(group: GroupKey): Promise<DescribeGroupResult> {
    const profile = this.groups.get(groupKeyString(group));
    if (profile) return { status: "found", profile };
    return { status: "unavailable", reason: "no list-groups export names this group" };
  }

  /** The users a `list-users` export lists (none without one), with their sign-in names. */
  get users(): { user: UserKey; userName: string | undefined }[] {
    return [...this.byKey.values()].map(({ identityStoreId, userId, userName }) => ({
      user: { identityStoreId, userId },
      userName,
    }));
  }

  /** How many groups the exports list (for messages and tests). */
  get groupCount(): number {
    return this.groups.size;
  }
}

function groupsFromJson(document: unknown, identityStoreId: string | undefined, source: string) {
  const parsed = groupExportSchema.safeParse(document);
  if (!parsed.success) {
    throw new UsageError(
      `${source} is not the output of 'aws identitystore list-groups': ${describeIssue(parsed.error.issues[0])}`,
    );
  }
  const storeId = identityStoreId ?? parsed.data.IdentityStoreId;
  const groups = parsed.data.Groups.map((group) => {
    const groupStore = group.IdentityStoreId ?? storeId;
    if (groupStore === undefined) {
      throw new UsageError(
        `${source}: group ${group.GroupId} has no IdentityStoreId (pass --identity-store-id)`,
      );
    }
    return groupProfileFromIdentityStore(groupStore, group);
  });
  return new ExportDirectory([], storeId, groups, false);
}

function describeIssue(issue: { message: string; path: readonly PropertyKey[] } | undefined): string {
  if (issue === undefined) return "unreadable";
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

function externalIdKey(externalId: ExternalId): string {
  return `${externalId.issuer}\u0000${externalId.id}`;
}

function parseExport(text: string, path: string): unknown {
  try {
    return parseUntrustedJson(text);
  } catch (error) {
    throw new UsageError(`directory export ${path} is not JSON: ${(error as Error).message}`);
  }
}
