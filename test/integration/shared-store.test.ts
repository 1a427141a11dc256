import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { noDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import {
  ENDPOINT_FILE,
  openRuntime,
  type Runtime,
  startEmbeddedDynamo,
  TOKEN_HEADER,
} from "@idc-audit/core/runtime";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { eventsDir, loadEvent } from "../support/fixtures.ts";
import { changeClientSteps, fixtureDirectory } from "../support/store.ts";

// The shared store within one process (the end-to-end tests run it across real processes): two runtimes on
// one data dir are an owner and its client, whatever the order in which they close.

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-shared-store-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const opened: Runtime[] = [];
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close();
});

async function open(dataDir: string): Promise<Runtime> {
  const runtime = await openRuntime({ dataDir, directory: await fixtureDirectory() });
  opened.push(runtime);
  return runtime;
}

const bobSession = (
  loadEvent("new/GetRoleCredentials__success.json").userIdentity as { credentialId: string }
).credentialId;

/**
 * The headers of every request a runtime's client sends, as they leave: recorded at the last step there is,
 * inside the one that addresses an embedded store's requests to its owner (`routeThroughSharedStore`) and
 * the SDK's signing, both added before it at the same step.
 */
function recordSentHeaders(runtime: Runtime): Record<string, string>[] {
  const sent: Record<string, string>[] = [];
  changeClientSteps(runtime.store.client, (stack) =>
    stack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "recordHeaders" },
    ),
  );
  return sent;
}

describe("two runtimes on one data dir", () => {
  it("answers every query the client started before the owner closed, and takes the store over", async () => {
    // Prepare: the first runtime owns the store; the second finds it through the endpoint file.
    const dataDir = join(scratch, "handover");
    const owner = await open(dataDir);
    await ingestStream(readInputs([join(eventsDir, "archive")]), owner.pipeline);
    const ownerEndpoint = readFileSync(join(dataDir, ENDPOINT_FILE), "utf8");
    const client = await open(dataDir);
    const expected = await client.queries.session(bobSession);
    // Act: forty queries from the client, and the owner closes while they run.
    const queries = Array.from({ length: 40 }, () => client.queries.session(bobSession));
    await owner.close();
    opened.splice(opened.indexOf(owner), 1);
    const answers = await Promise.all(queries);
    const afterwards = await client.queries.session(bobSession);
    // Assess: every answer is whole, and the client now owns the store under a new token.
    expect(expected.events.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer).toEqual(expected);
    expect(afterwards).toEqual(expected);
    const newEndpoint = JSON.parse(readFileSync(join(dataDir, ENDPOINT_FILE), "utf8")) as { token: string };
    expect(newEndpoint.token).not.toBe((JSON.parse(ownerEndpoint) as { token: string }).token);
  });

  it("withdraws the endpoint file when the owner closes last", async () => {
    // Prepare
    const dataDir = join(scratch, "withdraw");
    const owner = await open(dataDir);
    const client = await open(dataDir);
    // Act
    await client.close();
    opened.splice(opened.indexOf(client), 1);
    const stillThere = readFileSync(join(dataDir, ENDPOINT_FILE), "utf8");
    await owner.close();
    opened.splice(opened.indexOf(owner), 1);
    // Assess
    expect(JSON.parse(stillThere)).toMatchObject({ pid: process.pid });
    expect(() => readFileSync(join(dataDir, ENDPOINT_FILE))).toThrow(/ENOENT/);
  });

  it("sends its requests with one fixed authorization, a signature of none of them", async () => {
    // Prepare: a client of another runtime's store, with the headers of every request it sends recorded as
    // they leave (after its requests are addressed to the owner).
    const dataDir = join(scratch, "unsigned");
    await open(dataDir);
    const client = await open(dataDir);
    const sent = recordSentHeaders(client);
    // Act: requests of many kinds and bodies (writes, reads, inserts).
    await ingestStream(readInputs([join(eventsDir, "archive")]), client.pipeline);
    const session = await client.queries.session(bobSession);
    // Assess: a signature would differ from request to request (it covers the body and the time).
    expect(session.events.length).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(5);
    for (const headers of sent) expect(headers[TOKEN_HEADER]).toMatch(/./);
    const authorizations = new Set(sent.map((headers) => headers.authorization));
    expect([...authorizations]).toEqual([expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=embedded\//)]);
    expect(new Set(sent.map((headers) => headers["x-amz-date"])).size).toBe(1);
  });
});

describe("a connection its own store drops", () => {
  /** Makes the next request of `runtime`'s client fail as a kept-alive connection the server closed would. */
  function dropNextRequest(runtime: Runtime): { dropped: number } {
    const state = { dropped: 0 };
    changeClientSteps(runtime.store.client, (stack) =>
      stack.add(
        (next) => async (args) => {
          if (state.dropped > 0) return next(args);
          state.dropped += 1;
          throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        },
        { step: "finalizeRequest", priority: "low", name: "dropNextRequest" },
      ),
    );
    return state;
  }

  it("is asked again in memory, where there is no store to open again", async () => {
    // Prepare
    const runtime = await openRuntime({ inMemory: true, directory: await fixtureDirectory() });
    opened.push(runtime);
    await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
    const expected = await runtime.queries.session(bobSession);
    const drop = dropNextRequest(runtime);
    // Act
    const answer = await runtime.queries.session(bobSession);
    // Assess
    expect(drop.dropped).toBe(1);
    expect(expected.events.length).toBeGreaterThan(0);
    expect(answer).toEqual(expected);
  });

  it("is asked again by a data dir's owner, which keeps its store running", async () => {
    // Prepare
    const dataDir = join(scratch, "dropped");
    const owner = await open(dataDir);
    await ingestStream(readInputs([join(eventsDir, "archive")]), owner.pipeline);
    const expected = await owner.queries.session(bobSession);
    const endpoint = readFileSync(join(dataDir, ENDPOINT_FILE), "utf8");
    const drop = dropNextRequest(owner);
    // Act
    const answer = await owner.queries.session(bobSession);
    // Assess: the same store, under the same token (reopening it would have restarted it under a new one).
    expect(drop.dropped).toBe(1);
    expect(answer).toEqual(expected);
    expect(readFileSync(join(dataDir, ENDPOINT_FILE), "utf8")).toBe(endpoint);
  });
});

describe("a table at an endpoint", () => {
  it("is sent requests signed one by one (only the embedded store's go unsigned)", async () => {
    // Prepare: a DynamoDB endpoint (an embedded store started on its own, which asks for no token).
    const endpoint = await startEmbeddedDynamo();
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    const runtime = await openRuntime({
      endpoint: endpoint.endpoint,
      region: "local",
      directory: noDirectory,
    });
    try {
      const sent = recordSentHeaders(runtime);
      // Act
      await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
      // Assess: a SigV4 signature of each request, none the embedded store's fixed one.
      expect(sent.length).toBeGreaterThan(5);
      for (const headers of sent) expect(headers.authorization).toMatch(/Signature=[0-9a-f]{64}$/);
      expect(new Set(sent.map((headers) => headers.authorization)).size).toBeGreaterThan(1);
    } finally {
      await runtime.close();
      await endpoint.close();
      vi.unstubAllEnvs();
    }
  });
});
