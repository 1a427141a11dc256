import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Per-request fault probabilities, drawn from a seeded generator in the order requests arrive. Only data-plane
 * operations are faulted, so tables can be created and described.
 */
export interface FaultSchedule {
  readonly seed: number;
  /** Answer HTTP 400 `ProvisionedThroughputExceededException` or `ThrottlingException`, forwarding nothing. */
  readonly throttle?: number;
  /** Forward only part of a `BatchWriteItem`/`BatchGetItem` and return the rest as unprocessed. */
  readonly unprocessed?: number;
  /** Close the connection without forwarding (the client sees a reset socket). */
  readonly dropBefore?: number;
  /** Forward, let the store apply the request, then close the connection without an answer. */
  readonly dropAfter?: number;
  /** Operations faulted (`x-amz-target` suffixes). */
  readonly operations?: readonly string[];
}

export interface FaultStats {
  requests: number;
  forwarded: number;
  throttled: number;
  unprocessed: number;
  droppedBefore: number;
  droppedAfter: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly stats: FaultStats;
  /** Stops injecting faults (the proxy keeps forwarding). */
  heal(): void;
  close(): Promise<void>;
}

const DATA_PLANE = ["BatchWriteItem", "BatchGetItem", "PutItem", "Query", "DeleteItem", "GetItem"];

const THROTTLES = [
  {
    __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    message: "The level of configured provisioned throughput for the table was exceeded.",
  },
  {
    __type: "com.amazon.coral.availability#ThrottlingException",
    message: "Rate of requests exceeds the allowed throughput.",
  },
];

/** mulberry32: small, seeded, good enough to spread faults. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function body(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type Json = Record<string, unknown>;

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of a DynamoDB JSON endpoint (the embedded store): what a
 * throttled, flaky real table looks like to the SDK.
 */
export async function startFaultProxy(target: string, schedule: FaultSchedule): Promise<FaultProxy> {
  const random = generator(schedule.seed);
  const operations = new Set(schedule.operations ?? DATA_PLANE);
  const stats: FaultStats = {
    requests: 0,
    forwarded: 0,
    throttled: 0,
    unprocessed: 0,
    droppedBefore: 0,
    droppedAfter: 0,
  };
  let healthy = false;
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  const forward = (incoming: IncomingMessage, payload: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers))
        if (typeof value === "string") headers[name] = value;
      headers.host = upstream.host;
      headers["content-length"] = String(payload.length);
      stats.forwarded += 1;
      const outgoing = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers,
          agent,
        },
        (response) => {
          body(response).then((data) => {
            const answer: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers))
              if (typeof value === "string") answer[name] = value;
            resolve({ status: response.statusCode ?? 500, headers: answer, body: data });
          }, reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(payload);
    });

  const reply = (response: ServerResponse, status: number, headers: Record<string, string>, data: Buffer) => {
    const clean: Record<string, string> = { ...headers, "content-length": String(data.length) };
    // The body may be rewritten; its checksum would no longer match.
    delete clean["x-amz-crc32"];
    delete clean["transfer-encoding"];
    response.writeHead(status, clean);
    response.end(data);
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const payload = await body(incoming);
    const operation = String(incoming.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    const faulted = !healthy && operations.has(operation);
    if (faulted) stats.requests += 1;
    const roll = faulted ? random() : 1;
    const { throttle = 0, dropBefore = 0, dropAfter = 0, unprocessed = 0 } = schedule;
    if (roll < throttle) {
      stats.throttled += 1;
      const error = THROTTLES[Math.floor(random() * THROTTLES.length)] ?? THROTTLES[0];
      reply(
        response,
        400,
        { "content-type": "application/x-amz-json-1.0" },
        Buffer.from(JSON.stringify(error)),
      );
      return;
    }
    if (roll < throttle + dropBefore) {
      stats.droppedBefore += 1;
      incoming.socket.destroy();
      return;
    }
    if (roll < throttle + dropBefore + dropAfter) {
      await forward(incoming, payload);
      stats.droppedAfter += 1;
      incoming.socket.destroy();
      return;
    }
    if (roll < throttle + dropBefore + dropAfter + unprocessed && operation.startsWith("Batch")) {
      const split = splitBatch(operation, JSON.parse(payload.toString("utf8")) as Json, random);
      if (split) {
        stats.unprocessed += 1;
        const answer = await forward(incoming, Buffer.from(JSON.stringify(split.forwarded)));
        if (answer.status !== 200) {
          reply(response, answer.status, answer.headers, answer.body);
          return;
        }
        const parsed = JSON.parse(answer.body.toString("utf8")) as Json;
        parsed[split.field] = split.held;
        reply(response, 200, answer.headers, Buffer.from(JSON.stringify(parsed)));
        return;
      }
    }
    const answer = await forward(incoming, payload);
    reply(response, answer.status, answer.headers, answer.body);
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch(() => incoming.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    heal() {
      healthy = true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/**
 * Splits a batch request: the first part is forwarded, the rest comes back as `UnprocessedItems` /
 * `UnprocessedKeys`, exactly as DynamoDB returns what it did not get to.
 */
function splitBatch(
  operation: string,
  request: Json,
  random: () => number,
): { forwarded: Json; field: string; held: Json } | undefined {
  const tables = request.RequestItems as Record<string, unknown> | undefined;
  const [table, entry] = Object.entries(tables ?? {})[0] ?? [];
  if (table === undefined) return undefined;
  if (operation === "BatchWriteItem") {
    const writes = entry as unknown[];
    if (writes.length < 2) return undefined;
    const keep = 1 + Math.floor(random() * (writes.length - 1));
    return {
      forwarded: { ...request, RequestItems: { [table]: writes.slice(0, keep) } },
      field: "UnprocessedItems",
      held: { [table]: writes.slice(keep) },
    };
  }
  const reads = entry as { Keys: unknown[] } & Json;
  if (reads.Keys.length < 2) return undefined;
  const keep = 1 + Math.floor(random() * (reads.Keys.length - 1));
  return {
    forwarded: { ...request, RequestItems: { [table]: { ...reads, Keys: reads.Keys.slice(0, keep) } } },
    field: "UnprocessedKeys",
    held: { [table]: { ...reads, Keys: reads.Keys.slice(keep) } },
  };
}
