/**
 * Seeded randomness for the synthetic archive. `sfc32` (128-bit state, seeded through splitmix32) rather than
 * mulberry32: with a 32-bit state, 128-bit ids drawn from millions of calls would collide.
 */

const HEX = "0123456789abcdef";
export const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** murmur3's finalizer: a bijection on 32-bit integers, so distinct counters give distinct values. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string, finalized: a stable 32-bit hash for derived names. */
export function hashString(text: string, seed = 0): number {
  return fmix32(fnv1a((0x811c9dc5 ^ seed) >>> 0, text));
}

/**
 * `hashString` of `first`, a NUL and `second`, without building that string: for keys hashed on a hot path
 * (the bench's record of what an ingest writes).
 */
export function hashStringPair(first: string, second: string, seed = 0): number {
  const h = Math.imul(fnv1a((0x811c9dc5 ^ seed) >>> 0, first), 0x01000193);
  return fmix32(fnv1a(h, second));
}

/** FNV-1a's steps over `text`, from the state `h`. */
function fnv1a(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  /** `length` characters from `alphabet`. */
  string(length: number, alphabet: string = ALPHANUMERIC): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet.charAt(this.uint32() % alphabet.length);
    return out;
  }

  hex(length: number): string {
    return this.string(length, HEX);
  }

  /** A random version-4 UUID. */
  uuid(): string {
    return formatUuid(
      hex32(this.uint32()) + hex32(this.uint32()) + hex32(this.uint32()) + hex32(this.uint32()),
    );
  }

  /**
   * A version-4 UUID that is unique for each `counter` under one `salt`: its last 8 hex digits are a bijection
   * of the counter, the rest is random.
   */
  uniqueUuid(counter: number, salt: number): string {
    return formatUuid(
      hex32(this.uint32()) +
        hex32(this.uint32()) +
        hex32(this.uint32()) +
        hex32(fmix32((counter ^ salt) >>> 0)),
    );
  }
}

function formatUuid(hex: string): string {
  const variant = HEX.charAt(8 + (Number.parseInt(hex.charAt(16), 16) & 3));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Six base64url characters encoding a 32-bit value (36 bits of room). */
export function encode32(value: number): string {
  let v = value >>> 0;
  let out = "";
  for (let i = 0; i < 6; i++) {
    out += BASE64URL.charAt(v & 63);
    v = Math.floor(v / 64);
  }
  return out;
}
