import type { GroupKey, GroupProfile, UserDirectory, UserProfile } from "../identity/port.ts";
import { groupKeyString, userKeyString } from "../identity/port.ts";
import type { UserKey } from "../normalize/types.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { Items, ItemType, ProfileStatus, profileAliases } from "../timeline/items.ts";
import { enrichPendingKey, Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore, WrittenOnce } from "../timeline/store.ts";

/** Alias keys a process remembers having written, by default. */
export const DEFAULT_ALIASES_WRITTEN = 50_000;

export interface EnricherOptions {
  /** How long a fetched profile is trusted before `DescribeUser` is called again. Default 24 hours. */
  readonly cacheLifetimeMs?: number;
  readonly now?: () => number;
  readonly logger?: AuditLogger;
  /** Parallel `DescribeUser` calls at most. */
  readonly concurrency?: number;
  /** Aliases already written by this process (shared with the pipeline, which writes some of the same). */
  readonly aliasesWritten?: WrittenOnce;
}

export interface EnrichStats {
  enriched: number;
  deleted: number;
  unenriched: number;
  cached: number;
}

/**
 * What the user and group enrichers share: the profiles this process fetched (in memory, for the cache
 * lifetime), the table every process shares, and the directory.
 */
abstract class ProfileCache {
  protected readonly memory = new Map<string, number>();
  protected readonly lifetime: number;
  protected readonly now: () => number;
  protected readonly concurrency: number;
  readonly stats: EnrichStats = { enriched: 0, deleted: 0, unenriched: 0, cached: 0 };
  /**
   * Users or groups another call of this process is making sure of right now (batches run side by side,
   * `ingestStream`): a second call waits for it instead of asking the directory again.
   */
  private readonly working = new Map<string, Promise<void>>();

  constructor(
    protected readonly store: TableStore,
    protected readonly directory: UserDirectory,
    options: EnricherOptions,
  ) {
    this.lifetime = options.cacheLifetimeMs ?? 24 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
    this.concurrency = options.concurrency ?? 4;
  }

  /**
   * Runs `work` for the keys no other call of this process is working on, then waits for those others and goes
   * over their keys again: one whose work failed there is done here (the rest are in memory by then).
   */
  protected async once<K>(
    keys: readonly K[],
    keyString: (key: K) => string,
    work: (keys: K[]) => Promise<void>,
  ): Promise<void> {
    const mine = new Map<string, K>();
    const others = new Map<string, K>();
    const waits = new Set<Promise<void>>();
    for (const key of keys) {
      const name = keyString(key);
      const other = this.working.get(name);
      if (other) {
        others.set(name, key);
        waits.add(other);
      } else mine.set(name, key);
    }
    if (mine.size > 0) {
      const done = work([...mine.values()]);
      const settled = done.then(
        () => {},
        () => {},
      );
      for (const name of mine.keys()) this.working.set(name, settled);
      try {
        await done;
      } finally {
        for (const name of mine.keys()) if (this.working.get(name) === settled) this.working.delete(name);
      }
    }
    if (waits.size === 0) return;
    await Promise.all(waits);
    await this.once([...others.values()], keyString, work);
  }

  /**
   * Of the users or groups asked for, those whose profile must be asked of the directory: neither fetched by
   * this process within the cache lifetime, nor stored fresh by any process (one `BatchGetItem` of their
   * profiles). Also the stored profiles, so a failed fetch can keep what was known.
   */
  protected async staleProfiles<K>(
    keys: readonly K[],
    naming: {
      readonly keyString: (key: K) => string;
      readonly profileKey: (key: K) => { pk: string; sk: string };
      readonly storedKeyString: (item: Item) => string;
    },
  ): Promise<{ toFetch: K[]; stored: Map<string, Item> }> {
    const now = this.now();
    const wanted = new Map<string, K>();
    for (const key of keys) {
      const name = naming.keyString(key);
      const fetchedAt = this.memory.get(name);
      if (fetchedAt === undefined || now - fetchedAt >= this.lifetime) wanted.set(name, key);
    }
    if (wanted.size === 0) return { toFetch: [], stored: new Map() };
    const items = await this.store.getAll([...wanted.values()].map(naming.profileKey));
    const stored = new Map(items.map((item) => [naming.storedKeyString(item), item]));
    const toFetch: K[] = [];
    for (const [name, key] of wanted) {
      const item = stored.get(name);
      const fetchedAt = item ? Date.parse(String(item.fetchedAt)) : Number.NaN;
      if (item !== undefined && item.status !== ProfileStatus.Unenriched && now - fetchedAt < this.lifetime) {
        this.memory.set(name, fetchedAt);
        this.stats.cached += 1;
      } else toFetch.push(key);
    }
    return { toFetch, stored };
  }
}

/** Users whose stored profiles `refresh` reads in one `BatchGetItem` and fetches together. */
const REFRESH_CHUNK = 100;

/**
 * Keeps a profile for every user the pipeline sees, asking the directory at most once per user per cache
 * lifetime: first in memory (this process), then in the table (every process), then the directory.
 */
export class Enricher extends ProfileCache {
  private readonly logger: AuditLogger;
  private readonly aliasesWritten: WrittenOnce;
  /**
   * User (`userKeyString`) → the sign-in name of the profile this process fetched or found stored, whose alias
   * is written: the pipeline teaches it to the events waiting for that name (`takeLearnedNames`).
   */
  private readonly userNames = new Map<string, string>();
  /** Names known since the pipeline last took them (`takeLearnedNames`). */
  private learnedNames: { user: UserKey; userName: string }[] = [];

  constructor(store: TableStore, directory: UserDirectory, options: EnricherOptions = {}) {
    super(store, directory, options);
    this.logger = options.logger ?? silentLogger;
    this.aliasesWritten = options.aliasesWritten ?? new WrittenOnce(DEFAULT_ALIASES_WRITTEN);
  }

  /** Makes sure every user has a profile item that is fresh, or marked unenriched. */
  async ensure(users: readonly UserKey[]): Promise<void> {
    await this.once(users, userKeyString, async (mine) => {
      const { toFetch, stored: storedByUser } = await this.staleProfiles(mine, {
        keyString: userKeyString,
        profileKey: Keys.userProfile,
        storedKeyString: (item) => `${item.identityStoreId}/${item.userId}`,
      });
      // A profile stored with a name (enriched, or deleted keeping what was known) was stored after its aliases
      // (see `fetch`): its name's alias exists.
      const byKey = new Map<string, UserKey>();
      for (const user of mine) byKey.set(userKeyString(user), user);
      for (const [key, item] of storedByUser) {
        const user = byKey.get(key);
        const userName = item.status === ProfileStatus.Unenriched ? undefined : storedUserName(item);
        if (user && userName) this.knowName(user, userName);
      }
      await this.fetch(
        [...toFetch, ...(await this.deletedButListed(toFetch, storedByUser, byKey))],
        storedByUser,
      );
    });
  }

  /**
   * The name → user mappings profiles taught since the last call, whatever asked for the profile (a batch's
   * people, a join, a directory change, a role session, `retryPending`): the pipeline reads the events waiting
   * for each (`Pipeline.teachLearnedNames`).
   */
  takeLearnedNames(): { user: UserKey; userName: string }[] {
    const taken = this.learnedNames;
    this.learnedNames = [];
    return taken;
  }

  /**
   * Names a directory lists, taught like the names of the profiles fetched (`takeLearnedNames`): the events
   * waiting for one are attributed to its person, who need have no profile stored yet (`idc-audit enrich`
   * with an export, after an ingest with no directory).
   */
  learn(names: readonly { user: UserKey; userName: string }[]): void {
    for (const { user, userName } of names) this.knowName(user, userName);
  }

  private knowName(user: UserKey, userName: string): void {
    const key = userKeyString(user);
    if (this.userNames.get(key) === userName) return;
    this.userNames.set(key, userName);
    this.learnedNames.push({ user, userName });
  }

  /**
   * Of the profiles found fresh, those marked deleted whose person an export given now lists: an older export
   * (or one of another store) marked them so, and an export is asked in memory, at no quota's cost. Not done
   * with a live Identity Store, whose answer the lifetime is there to spare.
   */
  private async deletedButListed(
    toFetch: readonly UserKey[],
    stored: ReadonlyMap<string, Item>,
    byKey: ReadonlyMap<string, UserKey>,
  ): Promise<UserKey[]> {
    if (this.directory.kind !== "export") return [];
    const fetching = new Set(toFetch.map(userKeyString));
    const listed: UserKey[] = [];
    for (const [key, item] of stored) {
      const user = byKey.get(key);
      if (!user || fetching.has(key) || item.status !== ProfileStatus.Deleted) continue;
      if ((await this.directory.describe(user)).status === "found") listed.push(user);
    }
    return listed;
  }

  /**
   * Fetches again the profiles stored for these users, however fresh (`idc-audit enrich` with an export: the
   * users it lists). A directory given now is believed: a profile stored unenriched (ingested with no directory),
   * or marked deleted by an older export, is not asked for again within its lifetime, nor at all when its
   * events are delivered again (duplicates touch nobody).
   */
  async refresh(users: readonly UserKey[]): Promise<{ refreshed: number; stillPending: number }> {
    let refreshed = 0;
    let stillPending = 0;
    for (let offset = 0; offset < users.length; offset += REFRESH_CHUNK) {
      const chunk = users.slice(offset, offset + REFRESH_CHUNK);
      const items = await this.store.getAll(chunk.map(Keys.userProfile));
      const stored = new Map(items.map((item) => [`${item.identityStoreId}/${item.userId}`, item]));
      const known = chunk.filter((user) => stored.has(userKeyString(user)));
      for (const status of await this.fetch(known, stored)) {
        refreshed += 1;
        if (status === ProfileStatus.Unenriched) stillPending += 1;
      }
    }
    return { refreshed, stillPending };
  }

  /** Fetches again every user whose profile is still pending (`idc-audit enrich`). */
  async retryPending(): Promise<{ retried: number; stillPending: number }> {
    const pending = await this.store.query(enrichPendingKey({ identityStoreId: "", userId: "" }).pk);
    let stillPending = 0;
    for (const item of pending) {
      const user = { identityStoreId: String(item.identityStoreId), userId: String(item.userId) };
      const [status] = await this.fetch([user], new Map());
      if (status === ProfileStatus.Unenriched) stillPending += 1;
    }
    return { retried: pending.length, stillPending };
  }

  /**
   * Asks the directory for each user's profile and stores what it answered. `stored`: the profiles stored
   * before (`userKeyString` → item), so a failed fetch keeps what was known. The answers are stored together:
   * their aliases, then their profiles, then the removal of their pending marks, each in as few `BatchWriteItem`s
   * as they fit. Stored one user at a time, that was three nearly empty requests per user: 346 `BatchWriteItem`s
   * and 200 `DeleteItem`s more in the bench's first 40,000 Identity Center records (docs/benchmarks.md).
   */
  private async fetch(
    users: readonly UserKey[],
    stored: ReadonlyMap<string, Item>,
  ): Promise<ProfileStatus[]> {
    const answers = await mapLimit(users, this.concurrency, async (user) => {
      const result = await this.directory.describe(user);
      const fetchedAt = new Date(this.now()).toISOString();
      const previous = stored.get(userKeyString(user));
      if (result.status === "unavailable") {
        this.stats.unenriched += 1;
        // Never replace a profile that was fetched before with an empty one because the directory is down.
        if (previous === undefined)
          await this.store.putIfAbsent(Items.profile(user, ProfileStatus.Unenriched, fetchedAt));
        if (this.directory.kind !== "none")
          await this.store.putAll([Items.enrichPending(user, result.reason)]);
        this.memory.set(userKeyString(user), this.now());
        return { user, status: ProfileStatus.Unenriched };
      }
      const found = result.status === "found" ? result.profile : undefined;
      // A deleted user keeps the profile known before, and so its name.
      const known = found ?? deletedProfile(previous);
      return {
        user,
        found,
        userName: known?.userName,
        status: found ? ProfileStatus.Enriched : ProfileStatus.Deleted,
        profile: Items.profile(
          user,
          found ? ProfileStatus.Enriched : ProfileStatus.Deleted,
          fetchedAt,
          known,
        ),
      };
    });
    const fetched = answers.flatMap((answer) =>
      answer.profile ? [{ ...answer, profile: answer.profile }] : [],
    );
    if (fetched.length > 0) {
      // The lookup values first, the profiles last: a process fetches only users whose profile is stale, so a
      // profile stored beside aliases that a crash cut short would leave them unwritten for good.
      await this.aliasesWritten.write(
        fetched.flatMap(({ found }) => (found ? profileAliases(found) : [])),
        (items) => this.store.putAll(items),
      );
      for (const { user, userName } of fetched) if (userName) this.knowName(user, userName);
      await this.store.putAll(fetched.map(({ profile }) => profile));
      await this.store.deleteAll(fetched.map(({ user }) => enrichPendingKey(user)));
      for (const { user, found } of fetched) {
        if (found) this.stats.enriched += 1;
        else this.stats.deleted += 1;
        this.logger.debug("user profile fetched", { status: found ? "found" : "deleted" });
        this.memory.set(userKeyString(user), this.now());
      }
    }
    return answers.map(({ status }) => status);
  }
}

/** The sign-in name in a stored profile item, if it has one. */
function storedUserName(item: Item): string | undefined {
  if (typeof item.profile !== "string") return undefined;
  const { userName } = JSON.parse(item.profile) as Partial<UserProfile>;
  return typeof userName === "string" && userName !== "" ? userName : undefined;
}

/** A deleted user keeps whatever was known of them before. */
function deletedProfile(previous: Item | undefined): UserProfile | undefined {
  if (previous?.profile === undefined) return undefined;
  return JSON.parse(String(previous.profile)) as UserProfile;
}

/**
 * Keeps a profile for every group a directory change names, like `Enricher` does for users: asked of the
 * directory (`DescribeGroup`, through the same client, pacer and quota as users) at most once per group per
 * cache lifetime. A name found is also written as a lookup value, so `group "Production admins"` finds it.
 */
export class GroupEnricher extends ProfileCache {
  async ensure(groups: readonly GroupKey[]): Promise<void> {
    const describeGroup = this.directory.describeGroup?.bind(this.directory);
    if (describeGroup === undefined || groups.length === 0) return;
    await this.once(groups, groupKeyString, (mine) => this.fetchGroups(mine, describeGroup));
  }

  private async fetchGroups(
    groups: readonly GroupKey[],
    describeGroup: NonNullable<UserDirectory["describeGroup"]>,
  ): Promise<void> {
    const { toFetch, stored: storedByGroup } = await this.staleProfiles(groups, {
      keyString: groupKeyString,
      profileKey: Keys.groupProfile,
      storedKeyString: (item) => `${item.identityStoreId}/${item.groupId}`,
    });
    await mapLimit(toFetch, this.concurrency, async (group) => {
      const result = await describeGroup(group);
      const fetchedAt = new Date(this.now()).toISOString();
      this.memory.set(groupKeyString(group), this.now());
      if (result.status === "unavailable") {
        this.stats.unenriched += 1;
        // A name fetched before is kept when the directory is down (or an export does not list the group).
        if (storedByGroup.get(groupKeyString(group)) === undefined)
          await this.store.putIfAbsent(groupProfileItem(group, ProfileStatus.Unenriched, fetchedAt));
        return;
      }
      if (result.status === "deleted") {
        this.stats.deleted += 1;
        const previous = storedByGroup.get(groupKeyString(group))?.profile;
        await this.store.putAll([
          groupProfileItem(
            group,
            ProfileStatus.Deleted,
            fetchedAt,
            previous === undefined ? undefined : (JSON.parse(String(previous)) as GroupProfile),
          ),
        ]);
        return;
      }
      this.stats.enriched += 1;
      // The name's lookup value before the profile, as for users: a fresh profile means its alias is stored.
      if (result.profile.displayName)
        await this.store.putAll([Items.groupAlias(result.profile.displayName, group)]);
      await this.store.putAll([groupProfileItem(group, ProfileStatus.Enriched, fetchedAt, result.profile)]);
    });
  }
}

function groupProfileItem(
  group: GroupKey,
  status: ProfileStatus,
  fetchedAt: string,
  profile?: GroupProfile,
): Item {
  return {
    ...Keys.groupProfile(group),
    type: ItemType.GroupProfile,
    status,
    fetchedAt,
    identityStoreId: group.identityStoreId,
    groupId: group.groupId,
    ...(profile ? { profile: JSON.stringify(profile) } : {}),
  };
}
