/**
 * Doctor checks of Redis: reachable, version, persistence, eviction policy,
 * memory used against maxmemory, TLS, and the clock skew between this host
 * and Redis.
 *
 * @module
 */

import type { RedisConfig } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { closeRedis, connectRedis, type RedisClient, redisTarget } from "../redis/connection.ts";
import { redisCliCommand } from "../redis/redis_cli.ts";
import { classifyRedisFailure } from "../redis/redis_failure.ts";
import { type CheckResult, isLoopback, reason, result, within } from "./check.ts";
import { assessMemory } from "./redis_memory.ts";

/** Options of {@link checkRedis}. */
export interface RedisCheckOptions {
  logger: Logger;
  /** Bound on connecting and on each query. */
  timeoutMs: number;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/** Names of the Redis checks, in report order. */
export const REDIS_CHECKS = [
  "redis.reachable",
  "redis.version",
  "redis.persistence",
  "redis.maxmemory_policy",
  "redis.memory",
  "redis.tls",
  "clock.skew",
] as const;

/** Streams need Redis 5; the worker's reclaim (XAUTOCLAIM) needs 6.2. */
const MIN_STREAMS: Version = [5, 0, 0];
const MIN_XAUTOCLAIM: Version = [6, 2, 0];

/** Clock skew above this is reported as a warning. */
export const SKEW_WARN_MS = 2_000;
/** Above this, token expiry times (refreshed 5 minutes early) are no longer trustworthy. */
export const SKEW_FAIL_MS = 5 * 60_000;

type Version = readonly [number, number, number];

/** Parses the text of `INFO` into its fields. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

function parseVersion(text: string): Version | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function atLeast(version: Version, minimum: Version): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== minimum[i]!) return version[i]! > minimum[i]!;
  }
  return true;
}

/** Judges the version from `INFO server`. */
export function assessVersion(info: Map<string, string>): CheckResult {
  const text = info.get("redis_version");
  const version = text === undefined ? undefined : parseVersion(text);
  if (!version) {
    return result(
      "redis.version",
      "warn",
      `could not read redis_version from INFO (got ${JSON.stringify(text ?? null)})`,
      "Make sure the server is Redis 6.2 or later (or a compatible server with streams and XAUTOCLAIM).",
    );
  }
  if (!atLeast(version, MIN_STREAMS)) {
    return result(
      "redis.version",
      "fail",
      `Redis ${text} has no streams (needs 5.0 or later)`,
      "Upgrade Redis to 6.2 or later.",
    );
  }
  if (!atLeast(version, MIN_XAUTOCLAIM)) {
    return result(
      "redis.version",
      "fail",
      `Redis ${text} lacks XAUTOCLAIM, which workers use to reclaim entries of dead consumers (needs 6.2 or later)`,
      "Upgrade Redis to 6.2 or later.",
    );
  }
  return result("redis.version", "pass", `Redis ${text} (streams and XAUTOCLAIM available)`);
}

/** Judges persistence from `INFO persistence`: AOF on is what "nothing lost" needs. */
export function assessPersistence(info: Map<string, string>, cli = "redis-cli"): CheckResult {
  const aof = info.get("aof_enabled") === "1";
  const rdbSaves = info.get("rdb_last_save_time") !== undefined;
  if (aof) return result("redis.persistence", "pass", "append-only file (AOF) is on");
  return result(
    "redis.persistence",
    "warn",
    `AOF is off${
      rdbSaves ? " (RDB snapshots at most)" : ""
    }: a Redis crash can lose recently committed entries and cursors`,
    `${cli} CONFIG SET appendonly yes && ${cli} CONFIG REWRITE  (redis.conf: appendonly yes, appendfsync everysec)`,
  );
}

/** Judges `maxmemory-policy`: any eviction policy can silently drop stream entries or state. */
export function assessEvictionPolicy(info: Map<string, string>, cli = "redis-cli"): CheckResult {
  const policy = info.get("maxmemory_policy");
  if (policy === undefined) {
    return result(
      "redis.maxmemory_policy",
      "warn",
      "INFO memory does not report maxmemory_policy",
      "Make sure maxmemory-policy is noeviction (redis.conf: maxmemory-policy noeviction).",
    );
  }
  if (policy === "noeviction") {
    return result(
      "redis.maxmemory_policy",
      "pass",
      "maxmemory-policy is noeviction: Redis refuses writes instead of dropping keys when full",
    );
  }
  return result(
    "redis.maxmemory_policy",
    "fail",
    `maxmemory-policy is ${policy}: when memory runs out Redis silently evicts keys, ` +
      `which can drop stream entries, cursors and idempotency records`,
    `${cli} CONFIG SET maxmemory-policy noeviction && ${cli} CONFIG REWRITE  ` +
      "(or in redis.conf: maxmemory-policy noeviction)",
  );
}

/** Whether the connection is encrypted; plaintext is only fine on loopback. */
export function assessTls(config: RedisConfig): CheckResult {
  const url = config.url === undefined ? undefined : new URL(config.url);
  const host = url?.hostname ?? config.host;
  if (url?.protocol === "rediss:") {
    return result("redis.tls", "pass", `TLS in use (rediss://${url.host})`);
  }
  if (isLoopback(host)) {
    return result("redis.tls", "pass", `plaintext connection to loopback ${host} (TLS not needed)`);
  }
  return result(
    "redis.tls",
    "warn",
    `plaintext connection to ${host}: email data crosses the network unencrypted`,
    "Use a rediss:// REDIS_URL (Redis with TLS enabled) or keep Redis on a private network.",
  );
}

/**
 * Judges the difference between Redis's clock (`TIME`, read between `sentAt`
 * and `receivedAt` on the local clock) and the local clock.
 */
export function assessClockSkew(
  serverMs: number,
  sentAt: number,
  receivedAt: number,
): CheckResult {
  const local = (sentAt + receivedAt) / 2;
  const skew = Math.round(serverMs - local);
  const uncertainty = Math.ceil((receivedAt - sentAt) / 2);
  const detail = `local clock is ${Math.abs(skew)} ms ${
    skew > 0 ? "behind" : "ahead of"
  } Redis (±${uncertainty} ms)`;
  const fix =
    "Synchronise the clocks with NTP (e.g. systemd-timesyncd or chrony) on this host and the Redis host.";
  if (Math.abs(skew) - uncertainty > SKEW_FAIL_MS) {
    return result(
      "clock.skew",
      "fail",
      `${detail}: more than the 5-minute token refresh margin`,
      fix,
    );
  }
  if (Math.abs(skew) - uncertainty > SKEW_WARN_MS) return result("clock.skew", "warn", detail, fix);
  return result("clock.skew", "pass", detail);
}

function skipAll(names: readonly string[], why: string): CheckResult[] {
  return names.map((name) => result(name, "skip", why));
}

/** Runs every Redis check against `config`; never throws, never waits longer than the timeouts. */
export async function checkRedis(
  config: RedisConfig,
  options: RedisCheckOptions,
): Promise<CheckResult[]> {
  const now = options.now ?? Date.now;
  const target = redisTarget(config);
  const cli = redisCliCommand(config);
  let redis: RedisClient;
  try {
    redis = await connectRedis(config, {
      name: "ingest:doctor",
      logger: options.logger,
      connectTimeoutMs: options.timeoutMs,
      maxRetriesPerRequest: 0,
    });
  } catch (error) {
    return unreachableResults(config, error, target, cli);
  }
  try {
    const results: CheckResult[] = [result("redis.reachable", "pass", `connected to ${target}`)];
    try {
      const info = parseInfo(await within(options.timeoutMs, "INFO", () => redis.info()));
      results.push(
        assessVersion(info),
        assessPersistence(info, cli),
        assessEvictionPolicy(info, cli),
        assessMemory(info, cli),
      );
    } catch (error) {
      results.push(
        result("redis.version", "fail", `INFO failed: ${reason(error)}`, infoFix()),
        ...skipAll(["redis.persistence", "redis.maxmemory_policy", "redis.memory"], "INFO failed"),
      );
    }
    results.push(assessTls(config));
    try {
      const sentAt = now();
      const [seconds, micros] = await within(options.timeoutMs, "TIME", () => redis.time());
      const receivedAt = now();
      results.push(
        assessClockSkew(Number(seconds) * 1000 + Number(micros) / 1000, sentAt, receivedAt),
      );
    } catch (error) {
      results.push(result("clock.skew", "skip", `TIME failed: ${reason(error)}`));
    }
    return results;
  } finally {
    await closeRedis(redis);
  }
}

/** The results when the connection failed: why (auth, not Redis, unreachable) and the fix. */
function unreachableResults(
  config: RedisConfig,
  error: unknown,
  target: string,
  cli: string,
): CheckResult[] {
  const failure = classifyRedisFailure(error, cli);
  return [
    result(
      "redis.reachable",
      "fail",
      failure.kind === "auth" || failure.kind === "not_redis"
        ? `Redis at ${target}: ${failure.summary} (${
          reason(error instanceof Error && error.cause !== undefined ? error.cause : error)
        })`
        : `cannot reach Redis at ${target}: ${reason(error)}`,
      `${capitalise(failure.fix)}.`,
    ),
    ...skipAll(REDIS_CHECKS.slice(1, 5), "Redis is unreachable"),
    assessTls(config),
    ...skipAll(["clock.skew"], "Redis is unreachable"),
  ];
}

function infoFix(): string {
  return "Allow the INFO command for this Redis user (ACL: +info; see the README's Redis ACL users).";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
