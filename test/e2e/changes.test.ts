/**
 * Directory changes as an analyst asks about them from the CLI: users and groups exports given with two
 * `--directory` options, the changes on the person, a group by its display name, an administrator's changes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.ts";
import { ALICE, BOB, eventsDir } from "../support/fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-changes-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const GROUP_ID = "aaa6373a-a1a8-487e-ac4e-11e5c638e487";

interface Change {
  eventId: string;
  eventTime: string;
  eventName: string;
  actor: string | null;
  group?: { groupId: string; displayName: string | null };
  permissionSet?: string;
  accountId?: string;
}

describe("directory changes from the CLI", () => {
  const dataDir = join(scratch, "store");
  const groups = join(scratch, "groups.json");
  writeFileSync(
    groups,
    JSON.stringify({
      Groups: [{ GroupId: GROUP_ID, IdentityStoreId: BOB.identityStoreId, DisplayName: "Production admins" }],
    }),
  );
  const users = join(eventsDir, "directory.json");
  const directory = ["--directory", users, "--directory", groups];

  it("shows changes on the person, the group by name, and the admin's changes", async () => {
    json(await runCli(["ingest", join(eventsDir, "admin"), "--data-dir", dataDir, ...directory, "--json"]));

    const bob = json<{ changes: Change[] }>(
      await runCli(["user", BOB.userName, "--data-dir", dataDir, "--json"]),
    );
    expect(bob.changes).toEqual([
      expect.objectContaining({
        eventName: "CreateAccountAssignment",
        actor: "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/dana",
        accountId: "444455556666",
        permissionSet: "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-5f3e1a2b3c4d5e6f",
      }),
    ]);

    const group = json<{
      group: { displayName: string };
      changes: (Change & { user?: { userName: string } })[];
    }>(await runCli(["group", "production admins", "--data-dir", dataDir, "--json"]));
    expect(group.group.displayName).toBe("Production admins");
    expect(group.changes.map((change) => change.eventName)).toEqual([
      "CreateGroupMembership",
      "UpdateGroup",
      "CreateGroup",
    ]);
    expect(group.changes[0]?.user?.userName).toBe(ALICE.userName);

    const dana = json<{ actor: string; changes: Change[] }>(
      await runCli(["changes", "--actor", "dana", "--data-dir", dataDir, "--json"]),
    );
    expect(dana.changes).toHaveLength(6);
    expect(dana.changes.map((change) => change.eventTime)).toEqual(
      [...dana.changes.map((change) => change.eventTime)].sort().reverse(),
    );

    const text = await runCli(["group", GROUP_ID, "--data-dir", dataDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("CreateGroupMembership");
    expect(text.stdout).toContain(ALICE.userName);
  });

  it("refuses a --directory file that is neither a list-users nor a list-groups export", async () => {
    const other = join(scratch, "accounts.json");
    writeFileSync(other, JSON.stringify({ Accounts: [] }));
    const result = await runCli(["group", GROUP_ID, "--data-dir", dataDir, "--directory", other]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /accounts\.json is neither 'aws identitystore list-users' nor 'list-groups'/,
    );
  });

  it("says no group is known for a name nobody has", async () => {
    const result = await runCli(["group", "nobody", "--data-dir", dataDir, "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ error: "no group known for nobody" });
  });
});
