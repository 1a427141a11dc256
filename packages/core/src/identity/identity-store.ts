import {
  DescribeGroupCommand,
  DescribeUserCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
  ResourceNotFoundException,
  ThrottlingException,
} from "@aws-sdk/client-identitystore";
import type { UserKey } from "../normalize/types.ts";
import { DirectoryError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { groupProfileFromIdentityStore, profileFromIdentityStore } from "./export.ts";
import type { DescribeGroupResult, DescribeResult, ExternalId, GroupKey, UserDirectory } from "./port.ts";

export interface IdentityStoreOptions {
  readonly identityStoreId: string;
  /** Requests per second this adapter allows itself; Identity Center APIs share ~20/s per account. */
  readonly requestsPerSecond?: number;
  /** Throttling retries after the SDK's own, each waiting `RetryAfterSeconds` (or a backoff). */
  readonly throttleRetries?: number;
  readonly logger?: AuditLogger;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Spaces requests so this process never asks faster than its share of the Identity Store quota. */
class RequestPacer {
  private next = 0;
  constructor(
    private readonly intervalMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  async wait(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }
}

/**
 * The live directory: Identity Store `DescribeUser`, `GetUserId` and `DescribeGroup`, all through one pacer:
 * they share the account's Identity Center quota.
 */
export class IdentityStoreDirectory implements UserDirectory {
  readonly kind = "identity-store";
  readonly identityStoreId: string;
  private readonly pacer: RequestPacer;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly throttleRetries: number;
  private readonly logger: AuditLogger;
  /** DescribeUser, GetUserId and DescribeGroup calls made, for benchmarks and tests of the cache. */
  calls = 0;

  constructor(
    private readonly client: IdentitystoreClient,
    options: IdentityStoreOptions,
  ) {
    this.identityStoreId = options.identityStoreId;
    this.sleep = options.sleep ?? defaultSleep;
    this.pacer = new RequestPacer(1000 / (options.requestsPerSecond ?? 10), this.sleep);
    this.throttleRetries = options.throttleRetries ?? 5;
    this.logger = options.logger ?? silentLogger;
  }

  async describe(user: UserKey): Promise<DescribeResult> {
    try {
      const output = await this.call(() =>
        this.client.send(
          new DescribeUserCommand({ IdentityStoreId: user.identityStoreId, UserId: user.userId }),
        ),
      );
      return {
        status: "found",
        profile: profileFromIdentityStore(user.identityStoreId, {
          UserId: output.UserId ?? user.userId,
          ...(output.UserName ? { UserName: output.UserName } : {}),
          ...(output.DisplayName ? { DisplayName: output.DisplayName } : {}),
          Emails: (output.Emails ?? []).map((email) => ({
            ...(email.Value ? { Value: email.Value } : {}),
            ...(email.Primary !== undefined ? { Primary: email.Primary } : {}),
          })),
          ExternalIds: externalIdsOf(output.ExternalIds),
        }),
      };
    } catch (error) {
      return this.describeFailure("DescribeUser", error);
    }
  }

  /** The group's real name: since AWS's change, `CreateGroup` / `UpdateGroup` events hide it. */
  async describeGroup(group: GroupKey): Promise<DescribeGroupResult> {
    try {
      const output = await this.call(() =>
        this.client.send(
          new DescribeGroupCommand({ IdentityStoreId: group.identityStoreId, GroupId: group.groupId }),
        ),
      );
      return {
        status: "found",
        profile: groupProfileFromIdentityStore(group.identityStoreId, {
          GroupId: output.GroupId ?? group.groupId,
          ...(output.DisplayName ? { DisplayName: output.DisplayName } : {}),
          ...(output.Description ? { Description: output.Description } : {}),
          ExternalIds: externalIdsOf(output.ExternalIds),
        }),
      };
    } catch (error) {
      return this.describeFailure("DescribeGroup", error);
    }
  }

  /** A deleted user or group is an answer; any other failure leaves the profile to a later attempt. */
  private describeFailure(
    operation: "DescribeUser" | "DescribeGroup",
    error: unknown,
  ): { status: "deleted" } | { status: "unavailable"; reason: string } {
    if (error instanceof ResourceNotFoundException) return { status: "deleted" };
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn("identity store lookup failed", { operation, reason });
    return { status: "unavailable", reason };
  }

  async findByUserName(userName: string): Promise<UserKey | undefined> {
    return this.getUserId({ UniqueAttribute: { AttributePath: "userName", AttributeValue: userName } });
  }

  async findByExternalId(externalId: ExternalId): Promise<UserKey | undefined> {
    return this.getUserId({ ExternalId: { Issuer: externalId.issuer, Id: externalId.id } });
  }

  /** `GetUserId` answers one user per email: a second user sharing it is found through stored profiles. */
  async findByEmail(email: string): Promise<UserKey[]> {
    const user = await this.getUserId({
      UniqueAttribute: { AttributePath: "emails.value", AttributeValue: email },
    });
    return user ? [user] : [];
  }

  private async getUserId(
    identifier: NonNullable<ConstructorParameters<typeof GetUserIdCommand>[0]["AlternateIdentifier"]>,
  ): Promise<UserKey | undefined> {
    try {
      const output = await this.call(() =>
        this.client.send(
          new GetUserIdCommand({ IdentityStoreId: this.identityStoreId, AlternateIdentifier: identifier }),
        ),
      );
      return output.UserId ? { identityStoreId: this.identityStoreId, userId: output.UserId } : undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw new DirectoryError("identity store GetUserId failed", {
        cause: error,
        retryable: !(error instanceof Error && /AccessDenied|Validation/.test(error.name)),
      });
    }
  }

  /** Paces every call and waits out throttling as Identity Store asks (`RetryAfterSeconds`). */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      await this.pacer.wait();
      this.calls += 1;
      try {
        return await request();
      } catch (error) {
        if (!(error instanceof ThrottlingException) || attempt >= this.throttleRetries) throw error;
        const seconds = error.RetryAfterSeconds ?? 2 ** attempt;
        this.logger.warn("identity store throttled", { retryAfterSeconds: seconds, attempt });
        await this.sleep(Math.min(seconds, 60) * 1000);
      }
    }
  }
}

/** The SDK's external ids as the exports spell them (its fields are optional, the exports' are not). */
function externalIdsOf(
  externalIds: readonly { Issuer?: string | undefined; Id?: string | undefined }[] | undefined,
): { Issuer: string; Id: string }[] {
  return (externalIds ?? []).map((externalId) => ({
    Issuer: externalId.Issuer ?? "",
    Id: externalId.Id ?? "",
  }));
}
