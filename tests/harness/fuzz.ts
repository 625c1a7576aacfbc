/**
 * Seeded randomness and byte mutations for the fuzz tests: the same seed
 * gives the same cases, so a failure can be replayed exactly.
 *
 * @module
 */

/** A seeded generator of numbers in [0, 1) (mulberry32: small, fast). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A source of random numbers in [0, 1). */
export type Rng = () => number;
/** One of `items`, at random. */
export const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng() * items.length)]!;
/** A whole number in [0, max). */
export const int = (rng: Rng, max: number): number => Math.floor(rng() * max);

/** Byte sequences that break MIME parsers: bad encoded words, NULs, stray separators. */
export const GARBAGE = [
  "=?utf-8?B?////?=",
  "=?x-bogus?Q?=FF=FE?=",
  "=?utf-8?Q?unterminated",
  "\u0000\u0001\u0002",
  "\r\n\r\n",
  ":::::",
  "=\r\n=",
  "<<<>>>",
  "\uFFFD\uD800",
];

/** Damages `bytes` one of several ways: bit flips, truncation, garbage, a huge line, noise. */
export function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  switch (int(rng, 6)) {
    case 0: // bit flips
      for (let i = 0; i < 1 + int(rng, 20) && out.length > 0; i++) {
        out[int(rng, out.length)]! ^= 1 << int(rng, 8);
      }
      return out;
    case 1: // truncation
      return out.slice(0, int(rng, out.length + 1));
    case 2: { // garbage spliced in
      const at = int(rng, out.length + 1);
      const junk = new TextEncoder().encode(pick(rng, GARBAGE).repeat(1 + int(rng, 5)));
      return concat(out.subarray(0, at), junk, out.subarray(at));
    }
    case 3: // a huge line
      return concat(out, new TextEncoder().encode("X-Long: " + "a".repeat(200_000)));
    case 4: // random bytes
      return Uint8Array.from({ length: int(rng, 2048) }, () => int(rng, 256));
    default:
      return out;
  }
}

/** The bytes of `parts` one after another (copied with `set`: spreading 200 kB is slow). */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
