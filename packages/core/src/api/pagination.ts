import { isRecord, parseUntrustedJson } from "../shared/json.ts";
import { badRequest } from "./errors.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const MAX_CURSOR_LENGTH = 200;

export interface PageRequest {
  readonly limit: number;
  readonly offset: number;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass back as `cursor` for the next page; `null` on the last one. */
  readonly nextCursor: string | null;
}

/**
 * Cursors are opaque to clients (base64url of a versioned offset) so the encoding can change, e.g. to a
 * DynamoDB start key once queries read page by page, without breaking callers that only pass them back.
 */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset }), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const invalid = () => badRequest("cursor is not one this API returned; start again without it");
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid();
  }
  let document: unknown;
  try {
    document = parseUntrustedJson(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!isRecord(document) || document.v !== 1) throw invalid();
  const offset = document.o;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw invalid();
  return offset;
}

export function parsePageRequest(limit: string | undefined, cursor: string | undefined): PageRequest {
  let size = DEFAULT_LIMIT;
  if (limit !== undefined) {
    size = /^\d{1,5}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!Number.isInteger(size) || size < 1 || size > MAX_LIMIT) {
      throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
  }
  return { limit: size, offset: cursor === undefined ? 0 : decodeCursor(cursor) };
}

/** The cursor of the page after this one, of `total` items in all (null: none). */
export function nextCursorOf(request: PageRequest, total: number): string | null {
  const end = request.offset + request.limit;
  return end < total ? encodeCursor(end) : null;
}

export function paginate<T>(items: readonly T[], request: PageRequest): Page<T> {
  const end = request.offset + request.limit;
  return {
    items: items.slice(request.offset, end),
    nextCursor: nextCursorOf(request, items.length),
  };
}
