/**
 * The one classifier of Redis failures. Producer, worker, doctor and CLI all
 * ask it what went wrong, so "Redis is full" is never reported as "Redis is
 * down" (issue 11): a `noeviction` Redis past `maxmemory` answers every
 * command that could grow memory (SET, HSET, ZADD, XADD, INCRBY, XGROUP
 * CREATE, and a Lua script whose first write is one of those) with
 * `-OOM command not allowed when used memory > 'maxmemory'`, while reads and
 * commands that free memory or only touch existing entries (XACK, HDEL, ZREM,
 * DEL, XCLAIM, XREADGROUP) still work. Checked against redis-server 7.0.
 *
 * @module
 */

import { describeError, type ErrorCode, IngestError, RedisError } from "../errors.ts";

/** What kind of Redis failure an error is. */
export type RedisFailureKind =
  /** Past `maxmemory` with `noeviction`: writes are refused until memory is freed. */
  | "oom"
  /** Connection refused, closed, reset, timed out, or retries exhausted. */
  | "unreachable"
  /** Something answers on the port, but not in the Redis protocol (HTTP, IMAP, ...). */
  | "not_redis"
  /** Redis is loading its dataset after a restart. */
  | "loading"
  /** A replica (or a failed-over master) refuses writes. */
  | "readonly"
  /** A long script or MULTI blocks the server, or a cluster slot is moving. */
  | "busy"
  /** Wrong password or unknown ACL user (`WRONGPASS`), or none given (`NOAUTH`). */
  | "auth"
  /** The ACL user may not run a command or touch a key (`NOPERM`). */
  | "permission"
  /** Anything else (a bad reply, a script error, a bug). */
  | "other";

/** A classified Redis failure. */
export interface RedisFailure {
  readonly kind: RedisFailureKind;
  /** Whether trying again later may succeed without a person. */
  readonly retryable: boolean;
  /** The `code` of the {@link RedisError} built for it. */
  readonly code: ErrorCode;
  /** One sentence: what is wrong. */
  readonly summary: string;
  /** What the operator should do; empty for `other`. */
  readonly fix: string;
}

/**
 * Where a fix line says `redis-cli` when the caller does not know the
 * connection (src/redis/redis_cli.ts builds the exact command from the config).
 */
const SOME_REDIS_CLI = "redis-cli (with the -u/-h/-p of your REDIS_URL or REDIS_HOST/REDIS_PORT)";

/** The fix printed wherever Redis is found full; `cli` is the command that reaches it. */
export function oomFix(cli: string = SOME_REDIS_CLI): string {
  return `raise maxmemory (${cli} CONFIG SET maxmemory <bytes>, and in ` +
    "redis.conf) or free memory (let the workers catch up so the stream can be trimmed, " +
    "remove unused consumer groups); see docs/runbooks/redis-down-or-full.md";
}

/** {@link oomFix} without a known connection. */
export const OOM_FIX: string = oomFix();

type FailureRow = Omit<RedisFailure, "kind" | "fix"> & { fix: (cli: string) => string };

const FAILURES: Record<RedisFailureKind, FailureRow> = {
  oom: {
    retryable: true,
    code: "REDIS_OOM",
    summary: "Redis is out of memory (used_memory above maxmemory) and refuses writes",
    fix: oomFix,
  },
  unreachable: {
    retryable: true,
    code: "REDIS_UNREACHABLE",
    summary: "Redis is unreachable",
    fix: (cli) =>
      `check that redis-server runs and REDIS_URL (or REDIS_HOST/REDIS_PORT; REDIS_CLUSTER_NODES ` +
      `on a cluster) points at it: ${cli} PING`,
  },
  not_redis: {
    retryable: false,
    code: "REDIS_NOT_REDIS",
    summary: "this port does not speak the Redis protocol (another service answers there)",
    fix: (cli) =>
      `point REDIS_URL (or REDIS_HOST/REDIS_PORT) at the Redis port; ${cli} PING must answer PONG`,
  },
  loading: {
    retryable: true,
    code: "REDIS_LOADING",
    summary: "Redis is loading its dataset after a restart",
    fix: () => "wait: Redis answers again once its data is loaded",
  },
  readonly: {
    retryable: true,
    code: "REDIS_READONLY",
    summary: "Redis refuses writes: the server is a read-only replica",
    fix: (cli) =>
      `point REDIS_URL at the master (after a failover, at the new master); ${cli} ROLE shows the role`,
  },
  busy: {
    retryable: true,
    code: "REDIS_BUSY",
    summary: "Redis is busy (a long-running script, or a cluster slot being moved)",
    fix: (cli) => `wait; if it lasts, look at ${cli} SLOWLOG GET and ${cli} SCRIPT KILL`,
  },
  auth: {
    retryable: false,
    code: "REDIS_AUTH",
    summary: "wrong Redis password (or ACL user)",
    fix: (cli) =>
      "set the password (and ACL user) in REDIS_URL (redis://user:password@host:port) or " +
      `REDIS_PASSWORD (or their _FILE); ${cli} PING must answer PONG`,
  },
  permission: {
    retryable: false,
    code: "REDIS_NOPERM",
    summary: "the Redis ACL user lacks a permission this command needs (NOPERM)",
    fix: (cli) =>
      `grant it with the ACL SETUSER lines of the README (Redis ACL users); ${cli} ACL LOG 1 names what was refused`,
  },
  other: {
    retryable: true,
    code: "REDIS_FAILED",
    summary: "a Redis command failed",
    fix: () => "",
  },
};

const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|Connection is closed|Stream isn't writeable|max retries per request|connect ETIMEDOUT|Cannot reach Redis|ConnectionRefused|Broken pipe|os error/i;

/** ioredis's parser on a reply that is not RESP (an HTTP or IMAP greeting, a TLS alert). */
const NOT_REDIS = /Protocol error, got|unknown reply type|Unexpected reply/i;

/** The first line of every message in the cause chain (nested RedisErrors keep the reply). */
function messages(error: unknown): string[] {
  const found: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    if (current instanceof Error) {
      found.push(current.message);
      current = current.cause;
    } else {
      found.push(String(current));
      break;
    }
  }
  return found;
}

/** The kind of Redis failure `error` (or any error in its cause chain) is. */
export function redisFailureKind(error: unknown): RedisFailureKind {
  const all = messages(error);
  // Redis error replies start with their code word; ioredis keeps it as the message's start.
  if (all.some((m) => /^OOM\b/.test(m) || /\bOOM command not allowed\b/.test(m))) return "oom";
  if (all.some((m) => /^LOADING\b/.test(m))) return "loading";
  if (all.some((m) => /^READONLY\b/.test(m))) return "readonly";
  // "Too many Cluster redirections": ioredis gave up following MOVED replies, the nodes do not
  // agree on the slot map yet (a cluster being formed or failing over under load), which settles
  // by itself like the others.
  if (
    all.some((m) =>
      /^(BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|Too many Cluster redirections)\b/.test(m)
    )
  ) {
    return "busy";
  }
  if (all.some((m) => /^(NOAUTH|WRONGPASS)\b/.test(m))) return "auth";
  // Inside a script Redis 7 words a refused command as an ERR reply.
  if (all.some((m) => /^NOPERM\b|user executing the script can't run this command/.test(m))) {
    return "permission";
  }
  if (all.some((m) => NOT_REDIS.test(m))) return "not_redis";
  if (error instanceof RedisError) {
    const known = (Object.keys(FAILURES) as RedisFailureKind[])
      .find((kind) => kind !== "other" && FAILURES[kind].code === error.code);
    if (known) return known;
  }
  if (all.some((m) => UNREACHABLE.test(m))) return "unreachable";
  return "other";
}

/**
 * Classifies `error`; see {@link RedisFailure}. `redisCli` is the command
 * that reaches the configured Redis (`redisCliCommand(config)`), used in the
 * fix; without it the fix names redis-cli generically.
 */
export function classifyRedisFailure(error: unknown, redisCli?: string): RedisFailure {
  const kind = redisFailureKind(error);
  const { fix, ...row } = FAILURES[kind];
  return { kind, ...row, fix: fix(redisCli ?? SOME_REDIS_CLI) };
}

/** Whether `error` says Redis is past maxmemory (`-OOM`). */
export function isRedisOom(error: unknown): boolean {
  return redisFailureKind(error) === "oom";
}

/**
 * A {@link RedisError} for a failed `doing` (e.g. `commit`): its code and
 * message name the kind of failure and the fix. An {@link IngestError} is
 * returned as it is.
 */
export function redisFailureError(
  doing: string,
  error: unknown,
  redisCli?: string,
): IngestError {
  if (error instanceof IngestError) return error;
  const failure = classifyRedisFailure(error, redisCli);
  const fix = failure.fix === "" ? "" : `: ${failure.fix}`;
  return new RedisError(
    failure.code,
    `Redis ${doing} failed: ${failure.summary}${fix} (${describeError(error)})`,
    { cause: error, retryable: failure.retryable },
  );
}

/**
 * A short description for logs and `/status`: for an OOM the summary and
 * the fix, otherwise the error's own description.
 */
export function describeRedisFailure(error: unknown): string {
  const failure = classifyRedisFailure(error);
  if (failure.kind !== "oom" || error instanceof IngestError) return describeError(error);
  return `${failure.summary}: ${failure.fix} (${describeError(error)})`;
}
