import { userKeyString } from "../identity/port.ts";
import type { UserKey } from "../normalize/types.ts";

/**
 * The two judgements made about a role session, as pure functions of stored data: whose it is, and which
 * portal session's `GetRoleCredentials` / `Federate` issued it. No field of AWS's links the two sessions.
 */

export const Attribution = {
  /** An event of the session named the person (`onBehalfOf`): every event of the session is theirs. */
  OnBehalfOf: "onBehalfOf",
  /** A chained session (`sts:AssumeRole` from a role session) is the person of the session it came from. */
  Parent: "parent",
  /** The directory knows exactly one user by the session name (user name or email). */
  SessionName: "by-session-name",
  /** The directory knows several users by the session name (a re-hire sharing an email): no one is chosen. */
  Ambiguous: "ambiguous",
  Unattributed: "unattributed",
} as const;
export type Attribution = (typeof Attribution)[keyof typeof Attribution];

export const Link = {
  /** The person's grant of this account and permission set within 2 s of the session's creation. */
  Exact: "exact",
  /** The only such grant within 120 s. */
  Probable: "probable",
  /**
   * None, or several and none exact, or exact ones of several portal sessions: the portal session may lie
   * outside the archive, or two were too close to tell.
   */
  Unlinked: "unlinked",
} as const;
export type Link = (typeof Link)[keyof typeof Link];

export const EXACT_LINK_MS = 2_000;
export const PROBABLE_LINK_MS = 120_000;

export interface AttributionResult {
  readonly basis: Attribution;
  readonly user: UserKey | undefined;
  /** Every user the session name matched, when that is how it was judged. */
  readonly candidates: readonly UserKey[];
}

export function byUserKey(a: UserKey, b: UserKey): number {
  const left = userKeyString(a);
  const right = userKeyString(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

export function distinctUsers(users: Iterable<UserKey>): UserKey[] {
  const byKey = new Map<string, UserKey>();
  for (const user of users) byKey.set(userKeyString(user), user);
  return [...byKey.values()].sort(byUserKey);
}

/**
 * Whose the session is, in order: a person its events name; its parent's person; the one user its name
 * matches. Several `onBehalfOf` users in one session would be AWS's error: the smallest key is chosen so every
 * reader agrees.
 */
export function attribute(
  named: readonly UserKey[],
  parent: AttributionResult | undefined,
  nameMatches: readonly UserKey[],
): AttributionResult {
  const [own] = distinctUsers(named);
  if (own) return { basis: Attribution.OnBehalfOf, user: own, candidates: [] };
  if (parent?.user) return { basis: Attribution.Parent, user: parent.user, candidates: [] };
  const candidates = distinctUsers(nameMatches);
  if (candidates.length === 1) return { basis: Attribution.SessionName, user: candidates[0], candidates };
  if (candidates.length > 1) return { basis: Attribution.Ambiguous, user: undefined, candidates };
  return { basis: Attribution.Unattributed, user: undefined, candidates: [] };
}

/** A portal event that hands out credentials for an account and permission set. */
export interface Grant {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly credentialId: string | undefined;
}

export interface LinkResult {
  readonly link: Link;
  readonly grant: Grant | undefined;
}

/**
 * The grant that issued a role session created at `creationDate`, among one person's grants of the session's
 * account and permission set (the caller never mixes people). Grants of two portal sessions within 2 s cannot be
 * told apart by time, the only thing that links them (the person on two devices, or someone else signed in as
 * them): naming either would be a guess, so the session is left unlinked.
 */
export function linkOf(creationDate: string, grants: readonly Grant[]): LinkResult {
  const created = Date.parse(creationDate);
  const near = grants
    .map((grant) => ({ grant, distance: Math.abs(Date.parse(grant.eventTime) - created) }))
    .filter(({ distance }) => distance <= PROBABLE_LINK_MS)
    .sort((a, b) => a.distance - b.distance || (a.grant.eventId < b.grant.eventId ? -1 : 1));
  const [nearest] = near;
  if (nearest && nearest.distance <= EXACT_LINK_MS) {
    const portalSessions = new Set(
      near.filter(({ distance }) => distance <= EXACT_LINK_MS).map(({ grant }) => grant.credentialId),
    );
    if (portalSessions.size > 1) return { link: Link.Unlinked, grant: undefined };
    return { link: Link.Exact, grant: nearest.grant };
  }
  if (nearest && near.length === 1) return { link: Link.Probable, grant: nearest.grant };
  return { link: Link.Unlinked, grant: undefined };
}

/** The portal events that issue role credentials. */
export const GRANT_EVENTS: ReadonlySet<string> = new Set(["GetRoleCredentials", "Federate"]);

/** A portal event that handed out role credentials: a successful `GetRoleCredentials` or `Federate`. */
export function isGrant(event: { readonly eventName: string; readonly outcome: string }): boolean {
  return GRANT_EVENTS.has(event.eventName) && event.outcome === "success";
}
