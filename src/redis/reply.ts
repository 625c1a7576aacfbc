/**
 * Helpers for Redis replies that ioredis returns as flat arrays
 * (`XINFO`, `XPENDING`): turned into plain objects once, here.
 *
 * @module
 */

/** `[k1, v1, k2, v2]` → `{ k1: v1, k2: v2 }`. */
export function pairsToObject(reply: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return result;
  for (let i = 0; i + 1 < reply.length; i += 2) result[String(reply[i])] = reply[i + 1];
  return result;
}

/** Milliseconds part of a stream id (`1700000000000-0` → 1700000000000). */
export function streamIdTime(id: string): number {
  return Number(id.split("-")[0]);
}

/** Flat field list of a stream entry → object. */
export function entryFields(fields: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) result[fields[i]!] = fields[i + 1]!;
  return result;
}

/** An `XREADGROUP` / `XREAD` reply read as bytes (`callBuffer`): streams of `[id, fields]` rows. */
export type StreamReplyBytes = [stream: Uint8Array, rows: [Uint8Array, Uint8Array[]][]][];

const utf8 = new TextDecoder();

/**
 * The `[id, fields]` rows of the first stream in a reply read as bytes, as
 * text. The hot read asks for bytes and decodes them here because ioredis'
 * own conversion (`Buffer#toString`) costs this runtime about 1 µs more per
 * 3 KB payload than `TextDecoder` (both replace invalid UTF-8 with U+FFFD).
 */
export function streamRowsAsText(reply: StreamReplyBytes | null): [string, string[]][] {
  const rows = reply?.[0]?.[1] ?? [];
  return rows.map(([id, fields]) => [utf8.decode(id), fields.map((field) => utf8.decode(field))]);
}

/** Whether a Redis error says the key or group does not exist. */
export function isMissingKeyError(error: unknown): boolean {
  return error instanceof Error && /no such key|NOGROUP/i.test(error.message);
}
