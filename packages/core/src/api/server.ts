import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuditLogger } from "../shared/logger.ts";
import { type ApiDependencies, parseQueryString, route } from "./route.ts";

export interface ServerOptions {
  readonly port: number;
  /** Interface to listen on; loopback unless asked, since answers are read with the caller's credentials. */
  readonly host?: string;
  readonly logger?: AuditLogger;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>/`: the web page; the API is below `api/`. Every request needs `key`. */
  readonly url: string;
  /**
   * This server's key, new at every start: a browser is given it once by `openUrl` (kept in a cookie), any
   * other client sends it as `Authorization: Bearer <key>`.
   */
  readonly key: string;
  /** `url` with the key (`?key=…`): the address to open in a browser, printed by `idc-audit serve`. */
  readonly openUrl: string;
  close(): Promise<void>;
}

/** The query parameter of `openUrl`. */
export const KEY_PARAMETER = "key";

/** Mount point of the API on the local server; the function URL serves the same routes at its root. */
export const API_PREFIX = "/api";

const STATIC_FILES = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/styles.css": { file: "styles.css", type: "text/css; charset=utf-8" },
} as const satisfies Record<string, { file: string; type: string }>;

const PAGE_HEADERS = {
  // Everything is served from here: no CDN, no inline script, nothing framed, nothing sent elsewhere.
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
} as const;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Where the page's files are: next to the API sources (`src/web`, run from TypeScript) or next to the CLI
 * bundle (`dist/web`, copied there by `scripts/build.mjs`).
 */
export function webDirectory(): string {
  const candidates = [new URL("../web/", import.meta.url), new URL("./web/", import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(join(path, "index.html"))) return path;
  }
  throw new Error(
    `web page files not found (looked in ${candidates.map((url) => fileURLToPath(url)).join(", ")})`,
  );
}

async function loadStatic(): Promise<Map<string, { body: Buffer; type: string }>> {
  const directory = webDirectory();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(STATIC_FILES)) {
    files.set(path, { body: await readFile(join(directory, file)), type });
  }
  return files;
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
  head: boolean,
) {
  response.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  response.end(head ? undefined : body);
}

const jsonError = (message: string) => `${JSON.stringify({ error: message })}\n`;
const JSON_TYPE = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

const NO_KEY =
  "this idc-audit server answers only requests carrying its key: open the address `idc-audit serve` printed " +
  "(it ends in ?key=…; a new key at every start), or send Authorization: Bearer <key>";

/** Whether `given` is `key`, compared in constant time. */
function sameKey(given: string | undefined, key: Buffer): boolean {
  if (given === undefined) return false;
  const bytes = Buffer.from(given, "utf8");
  return bytes.length === key.length && timingSafeEqual(bytes, key);
}

/** The value of the cookie `name` in a `Cookie` header (RFC 6265's `name=value; …`). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals !== -1 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

/**
 * Serves the web page and the API (`/api/…`) on one local port. Meant for an analyst's own machine: it reads
 * a local embedded store or a deployed table with the analyst's AWS credentials. Loopback is not a boundary
 * between the users of one machine, so every request must carry the server's key (`RunningServer.key`), as the
 * embedded store's requests carry its token and its data dir is the user's alone.
 */
export async function startServer(
  dependencies: ApiDependencies,
  options: ServerOptions,
): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const files = await loadStatic();
  let allowedHosts = new Set<string>();
  const key = randomBytes(32).toString("base64url");
  const keyBytes = Buffer.from(key, "utf8");
  // Cookies are scoped by host, not port: one name per port keeps two servers' keys apart.
  let cookieName = "idc-audit-key";

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? "GET";
    const head = method === "HEAD";
    // A page elsewhere could point its own host name at 127.0.0.1 (DNS rebinding) and read answers made with
    // the analyst's credentials; only requests addressed to this server by its own name are answered.
    if (allowedHosts.size > 0 && !allowedHosts.has((request.headers.host ?? "").toLowerCase())) {
      send(response, 421, JSON_TYPE, jsonError("unexpected Host header"), head);
      return;
    }
    const raw = request.url ?? "/";
    const mark = raw.indexOf("?");
    const path = mark === -1 ? raw : raw.slice(0, mark);
    const rawQuery = mark === -1 ? "" : raw.slice(mark + 1);
    const api = path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (!sameKey(bearer, keyBytes) && !sameKey(cookieValue(request.headers.cookie, cookieName), keyBytes)) {
      const offered = !api && path === "/" ? new URLSearchParams(rawQuery).get(KEY_PARAMETER) : null;
      if (offered !== null && sameKey(offered, keyBytes)) {
        // The key goes into a cookie the page's scripts cannot read, and out of the address bar and history.
        send(
          response,
          303,
          {
            location: "/",
            "set-cookie": `${cookieName}=${key}; Path=/; HttpOnly; SameSite=Strict`,
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
          },
          "",
          head,
        );
        return;
      }
      send(response, 401, JSON_TYPE, jsonError(NO_KEY), head);
      return;
    }
    if (api) {
      const answer = await route(
        {
          method: head ? "GET" : method,
          path: path.slice(API_PREFIX.length),
          query: parseQueryString(rawQuery),
        },
        { ...dependencies, ...(options.logger ? { logger: options.logger } : {}) },
      );
      send(response, answer.status, answer.headers, answer.body, head);
      return;
    }
    const file = files.get(path);
    if (!file) {
      send(response, 404, JSON_TYPE, jsonError(`no such page: ${path}`), head);
      return;
    }
    if (method !== "GET" && !head) {
      send(response, 405, { ...JSON_TYPE, allow: "GET, HEAD" }, jsonError(`${method} is not allowed`), head);
      return;
    }
    send(response, 200, { ...PAGE_HEADERS, "content-type": file.type }, file.body, head);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, JSON_TYPE, jsonError("internal error"), false);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  if (LOOPBACK.has(host)) {
    allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  }
  cookieName = `idc-audit-key-${port}`;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    key,
    openUrl: `${url}?${KEY_PARAMETER}=${key}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
