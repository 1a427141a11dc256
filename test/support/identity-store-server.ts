import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the fake Identity Store answers: as it should, or as during an outage of each kind. */
export type IdentityStoreMode = "healthy" | "access-denied" | "throttled" | "internal-error";

export interface FakeIdentityStore {
  readonly url: string;
  mode: IdentityStoreMode;
  /** Requests answered, by operation. */
  readonly calls: Record<string, number>;
  close(): Promise<void>;
}

type ExportedUser = Record<string, unknown>;

const ERRORS: Record<
  Exclude<IdentityStoreMode, "healthy">,
  { status: number; body: Record<string, unknown> }
> = {
  "access-denied": {
    status: 400,
    body: {
      __type: "AccessDeniedException",
      Message: "User is not authorized to perform identitystore:DescribeUser",
    },
  },
  throttled: {
    status: 400,
    body: { __type: "ThrottlingException", Message: "Rate exceeded", RetryAfterSeconds: 0 },
  },
  "internal-error": { status: 500, body: { __type: "InternalServerException", Message: "Internal failure" } },
};

/**
 * Identity Store's JSON protocol (`AWSIdentityStore.DescribeUser`, `.GetUserId`) on 127.0.0.1, answering from an
 * `aws identitystore list-users` export. Point the SDK at it with `AWS_ENDPOINT_URL_IDENTITYSTORE`.
 */
export async function startFakeIdentityStore(
  directory: { Users: ExportedUser[] },
  identityStoreId: string,
): Promise<FakeIdentityStore> {
  const calls: Record<string, number> = {};
  const state = { mode: "healthy" as IdentityStoreMode };
  const send = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    const type = typeof body.__type === "string" ? { "x-amzn-errortype": body.__type } : {};
    response.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...type });
    response.end(text);
  };
  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    const operation = String(incoming.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    calls[operation] = (calls[operation] ?? 0) + 1;
    if (state.mode !== "healthy") {
      const error = ERRORS[state.mode];
      send(response, error.status, error.body);
      return;
    }
    const notFound = () =>
      send(response, 400, {
        __type: "ResourceNotFoundException",
        Message: "USER not found",
        ResourceType: "USER",
      });
    if (operation === "DescribeUser") {
      const user = directory.Users.find((entry) => entry.UserId === input.UserId);
      if (!user) return notFound();
      return send(response, 200, { ...user, IdentityStoreId: identityStoreId });
    }
    if (operation === "GetUserId") {
      const attribute = (input.AlternateIdentifier as { UniqueAttribute?: { AttributeValue?: string } })
        ?.UniqueAttribute?.AttributeValue;
      const user = directory.Users.find(
        (entry) => String(entry.UserName).toLowerCase() === String(attribute).toLowerCase(),
      );
      if (!user) return notFound();
      return send(response, 200, { UserId: user.UserId, IdentityStoreId: identityStoreId });
    }
    send(response, 400, { __type: "ValidationException", Message: `unsupported operation ${operation}` });
  };
  const server = createServer((incoming, response) => {
    handle(incoming, response).catch(() => incoming.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: IdentityStoreMode) {
      state.mode = mode;
    },
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
