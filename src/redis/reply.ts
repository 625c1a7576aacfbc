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

/** Whether a Redis error says the key or group does not exist. */
export function isMissingKeyError(error: unknown): boolean {
  return error instanceof Error && /no such key|NOGROUP/i.test(error.message);
}
