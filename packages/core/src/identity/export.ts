import { readFile } from "node:fs/promises";
import * as z from "zod/mini";
import type { UserKey } from "../normalize/types.ts";
import { UsageError } from "../shared/errors.ts";
import { parseUntrustedJson } from "../shared/json.ts";
import {
  type DescribeResult,
  type ExternalId,
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

  constructor(profiles: readonly UserProfile[], identityStoreId?: string) {
    this.identityStoreId = identityStoreId ?? profiles[0]?.identityStoreId;
    for (const profile of profiles) {
      const key = { identityStoreId: profile.identityStoreId, userId: profile.userId };
      this.byKey.set(userKeyString(key), profile);
      if (profile.userName) this.byUserName.set(profile.userName.toLowerCase(), key);
      for (const externalId of profile.externalIds) this.byExternalId.set(externalIdKey(externalId), key);
      for (const email of new Set(profile.emails.map((value) => value.toLowerCase()))) {
        this.byEmail.set(email, [...(this.byEmail.get(email) ?? []), key]);
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
    return ExportDirectory.fromJson(parseExport(text, path), identityStoreId);
  }

  static fromJson(document: unknown, identityStoreId?: string): ExportDirectory {
    const parsed = exportSchema.safeParse(document);
    if (!parsed.success) {
      throw new UsageError(
        `directory export is not the output of 'aws identitystore list-users': ${parsed.error.issues[0]?.message}`,
      );
    }
    const storeId = identityStoreId ?? parsed.data.IdentityStoreId;
    const profiles = parsed.data.Users.map((user) => {
      const userStore = user.IdentityStoreId ?? storeId;
      if (userStore === undefined) {
        throw new UsageError(
          `directory export: user ${user.UserId} has no IdentityStoreId (pass --identity-store-id)`,
        );
      }
      return profileFromIdentityStore(userStore, user);
    });
    return new ExportDirectory(profiles, storeId);
  }

  async describe(user: UserKey): Promise<DescribeResult> {
    const profile = this.byKey.get(userKeyString(user));
    return profile ? { status: "found", profile } : { status: "deleted" };
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
