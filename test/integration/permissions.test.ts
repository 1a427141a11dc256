import { join } from "node:path";
import { route } from "@idc-audit/core/api";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { noDirectory, type UserDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import type { Runtime } from "@idc-audit/core/runtime";
import { STORE_READER_ACTIONS, STORE_WRITER_ACTIONS } from "@idc-audit/core/timeline";
import { describe, expect, it } from "vitest";
import { attackArchive, detectingRuntime, RecordingSink } from "../support/detect.ts";
import { BOB, eventsDir, fixtureFiles, loadEvent } from "../support/fixtures.ts";
import { changeClientSteps, fixtureDirectory, memoryRuntime, normalized } from "../support/store.ts";

/**
 * Records the DynamoDB operations a runtime's client sends, as IAM action names. A `BatchExecuteStatement` is
 * authorized statement by statement: each `INSERT` as `PartiQLInsert`, any other kind of statement as its own.
 */
function recordActions(runtime: Runtime): Set<string> {
  const actions = new Set<string>();
  changeClientSteps(runtime.store.client, (stack) =>
    stack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName).replace(/Command$/, "");
        if (operation === "BatchExecuteStatement") {
          const { Statements = [] } = args.input as { Statements?: { Statement?: string }[] };
          for (const { Statement = "" } of Statements) {
            const verb = /^\s*(\w+)/.exec(Statement)?.[1]?.toLowerCase() ?? "unknown";
            actions.add(`dynamodb:PartiQL${verb.charAt(0).toUpperCase()}${verb.slice(1)}`);
          }
        } else actions.add(`dynamodb:${operation}`);
        return next(args);
      },
      { step: "initialize", name: "recordActions" },
    ),
  );
  return actions;
}

/** A directory that is down: every lookup fails the way Identity Store outages reach the pipeline. */
const unavailableDirectory: UserDirectory = {
  ...noDirectory,
  kind: "identity-store",
  async describe() {
    return { status: "unavailable", reason: "ThrottlingException" };
  },
};

describe("least privilege, from the code's side", () => {
  it("ingestion sends only the actions the ingest functions are granted", async () => {
    // Prepare: shuffled attack traffic (alerts merge and are replaced, which deletes) and every fixture shape.
    const { normalized: records, directory } = attackArchive(1500);
    const runtime = await detectingRuntime(directory, new RecordingSink());
    const actions = recordActions(runtime);
    try {
      // Act
      const shuffled = [...records].reverse();
      for (let start = 0; start < shuffled.length; start += 97) {
        await runtime.pipeline.ingest(shuffled.slice(start, start + 97));
      }
      await runtime.pipeline.ingest(
        ["old", "transitional", "new", "admin"].flatMap((shape) =>
          fixtureFiles(shape).map((path) => normalized(loadEvent(path))),
        ),
      );
    } finally {
      await runtime.close();
    }
    // An Identity Store outage: profiles are written "unenriched" only where none exists (a conditional put).
    const outage = await memoryRuntime(unavailableDirectory);
    const outageActions = recordActions(outage);
    try {
      await outage.pipeline.ingest(fixtureFiles("new").map((path) => normalized(loadEvent(path))));
    } finally {
      await outage.close();
    }
    // Assess
    expect([...new Set([...actions, ...outageActions])].sort()).toEqual([...STORE_WRITER_ACTIONS].sort());
  });

  it("queries send only reads", async () => {
    const runtime = await memoryRuntime();
    await runtime.pipeline.ingest(fixtureFiles("new").map((path) => normalized(loadEvent(path))));
    const actions = recordActions(runtime);
    try {
      const bob = { identityStoreId: BOB.identityStoreId, userId: BOB.userId };
      const report = await runtime.queries.user(bob);
      for (const session of report.sessions) await runtime.queries.session(session.credentialId);
      await runtime.queries.findUsers(BOB.userName);
      await runtime.queries.findUsersByExternalId("00u1abcdEFGHijkl2345");
      await runtime.queries.failedSignIns();
      await runtime.alerts();
      await runtime.queries.address("203.0.113.24");
    } finally {
      await runtime.close();
    }
    expect(actions.size).toBeGreaterThan(0);
    for (const action of actions) expect(STORE_READER_ACTIONS).toContain(action);
  });

  it("the analyst API sends only reads, role-session routes included", async () => {
    const runtime = await memoryRuntime(await fixtureDirectory());
    await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
    const roleSession = (await runtime.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1"))?.roleSession;
    const credentialId = roleSession?.credentialId ?? "";
    const actions = recordActions(runtime);
    const statuses: number[] = [];
    try {
      for (const path of [
        `/sessions/${credentialId}`,
        `/users/${BOB.userId}`,
        `/role-sessions/${roleSession?.id}`,
        "/access-keys/ASIA3EXAMPLEROLEKEY1",
        "/search",
      ]) {
        const query = path === "/search" ? { q: "ASIA3EXAMPLEROLEKEY1" } : {};
        statuses.push((await route({ method: "GET", path, query }, runtime)).status);
      }
    } finally {
      await runtime.close();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect([...actions].sort()).toEqual([...STORE_READER_ACTIONS].sort());
  });
});

describe("a runtime's client", () => {
  it("applies a step added after its first requests to the next ones, though it caches its middleware", async () => {
    const runtime = await memoryRuntime();
    try {
      // The runtime's first requests (opening the table, reading its markers) built and cached their chains.
      await runtime.store.getAll([{ pk: "P#1", sk: "S" }]);
      const actions = recordActions(runtime);
      await runtime.store.getAll([{ pk: "P#2", sk: "S" }]);
      expect([...actions]).toEqual(["dynamodb:BatchGetItem"]);
    } finally {
      await runtime.close();
    }
  });
});
