/**
 * Doctor check `redis.memory`: how close `used_memory` is to `maxmemory`. A
 * `noeviction` Redis past its limit refuses every write that could grow
 * memory (`-OOM`): producers cannot commit and workers cannot settle.
 *
 * @module
 */

import { type CheckResult, result } from "./check.ts";

/** At or above this share of maxmemory the check warns. */
export const MEMORY_WARN_RATIO = 0.8;
/** At or above this share it fails: Redis is about to refuse (or refuses) writes. */
export const MEMORY_FAIL_RATIO = 0.95;

const MIB = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** A maxmemory that leaves room: 1.5 times what is used now, in whole MiB (at least 64). */
export function suggestedMaxmemory(usedBytes: number): string {
  return `${Math.max(64, Math.ceil((usedBytes * 1.5) / MIB))}mb`;
}

/** The fix command for a Redis near or past its limit. */
export function memoryFix(usedBytes: number, cli = "redis-cli"): string {
  const size = suggestedMaxmemory(usedBytes);
  return `${cli} CONFIG SET maxmemory ${size} && ${cli} CONFIG REWRITE  ` +
    `(redis.conf: maxmemory ${size}), or free memory: let the workers catch up so the ` +
    "stream can be trimmed (ingest stream inspect shows LAG and PENDING), remove consumer " +
    "groups nobody reads; see docs/runbooks/redis-down-or-full.md";
}

/** Judges `used_memory` against `maxmemory` from `INFO memory`. */
export function assessMemory(info: Map<string, string>, cli = "redis-cli"): CheckResult {
  const used = Number(info.get("used_memory"));
  const max = Number(info.get("maxmemory"));
  if (!Number.isFinite(used) || !Number.isFinite(max) || info.get("used_memory") === undefined) {
    return result(
      "redis.memory",
      "warn",
      "INFO memory does not report used_memory and maxmemory",
      `Check memory by hand: ${cli} INFO memory | grep -E 'used_memory:|maxmemory:'`,
    );
  }
  if (max === 0) {
    return result(
      "redis.memory",
      "warn",
      `maxmemory is not set (${mib(used)} used): Redis may grow until the host kills it`,
      `${cli} CONFIG SET maxmemory ${suggestedMaxmemory(used * 4)} && ${cli} CONFIG ` +
        "REWRITE  (size it to the host; with noeviction a full Redis refuses writes instead)",
    );
  }
  const ratio = used / max;
  const detail = `${mib(used)} used of maxmemory ${mib(max)} (${Math.round(ratio * 100)}%)`;
  if (ratio >= MEMORY_FAIL_RATIO) {
    return result(
      "redis.memory",
      "fail",
      `${detail}: Redis is out of memory or about to be, and then refuses writes ` +
        "(producers cannot commit, workers cannot settle)",
      memoryFix(used, cli),
    );
  }
  if (ratio >= MEMORY_WARN_RATIO) {
    return result("redis.memory", "warn", `${detail}: close to the limit`, memoryFix(used, cli));
  }
  return result("redis.memory", "pass", detail);
}
