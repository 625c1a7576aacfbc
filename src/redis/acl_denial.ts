/**
 * What a Redis ACL refused (`NOPERM`), read from the reply, and the
 * `ACL SETUSER` line that grants it. Redis 7.0 names the command when it
 * refuses one sent directly (`NOPERM this user has no permissions to run the
 * 'xack' command`), but inside a script it says only `can't run this command
 * or subcommand script: <sha>, on @user_script:<line>`: the command is read
 * from that line of the script's own source (`scriptSource`).
 *
 * @module
 */

import type { RedisConfig } from "../config/config.ts";
import { describeError, RedisError } from "../errors.ts";
import { scriptSource } from "./lua_script.ts";
import { redisCliCommand } from "./redis_cli.ts";
import { redisFailureKind } from "./redis_failure.ts";

/** What an ACL refused. */
export interface AclDenial {
  /** The command refused, lower case (`xack`), when the reply or the script names it. */
  readonly command: string | undefined;
  /** A key (not a command) was refused. */
  readonly key: boolean;
}

const COMMAND = /no permissions to run the '([^']+)' command/i;
const KEY = /no permissions to access one of the keys|can't access at least one of the keys/i;
const SCRIPT_LINE =
  /can't run this command or subcommand script: ([0-9a-f]{40}), on @user_script:(\d+)/;
const CALL = /redis\.p?call\(\s*['"]([A-Za-z]+)['"]/;

/** The error chain's messages, outermost first. */
function messages(error: unknown): string[] {
  const found: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 6; depth++) {
    if (!(current instanceof Error)) break;
    found.push(current.message);
    current = current.cause;
  }
  return found;
}

/** What the ACL refused, when `error` (or its cause chain) is a NOPERM; `undefined` otherwise. */
export function aclDenial(error: unknown): AclDenial | undefined {
  if (redisFailureKind(error) !== "permission") return undefined;
  const all = messages(error);
  const command = all.map((m) => COMMAND.exec(m)?.[1]?.toLowerCase() ?? scriptCommand(m))
    .find((c) => c !== undefined);
  return { command, key: all.some((m) => KEY.test(m)) };
}

/** The command on the refused line of one of our scripts, lower case. */
function scriptCommand(message: string): string | undefined {
  const [, sha, line] = SCRIPT_LINE.exec(message) ?? [];
  const source = sha === undefined ? undefined : scriptSource(sha);
  if (source === undefined) return undefined;
  return CALL.exec(source.split("\n")[Number(line) - 1] ?? "")?.[1]?.toLowerCase();
}

/** The ACL user `config` connects as (`default` when the URL names none). */
function aclUser(config: RedisConfig): string {
  if (config.url === undefined) return "default";
  const user = decodeURIComponent(new URL(config.url).username);
  return user === "" ? "default" : user;
}

/**
 * The fix for `denial`: the `ACL SETUSER` line (run as a Redis admin) with
 * the `redis-cli` that reaches the configured Redis.
 */
export function aclFix(denial: AclDenial, config: RedisConfig): string {
  const grant = denial.key
    ? `'~${config.streamName}' '~${config.streamName}:*'`
    : `'+${denial.command ?? "<command named by ACL LOG>"}'`;
  return `as a Redis admin (REDIS_URL of an admin user): ${redisCliCommand(config)} ACL SETUSER ` +
    `${aclUser(config)} ${grant}; the README's "Redis ACL users" lines grant every permission`;
}

/**
 * A {@link RedisError} `REDIS_NOPERM` for a refused `doing` (e.g. `acknowledge`):
 * what was refused and the fix line; `undefined` when `error` is no NOPERM.
 */
export function permissionError(
  doing: string,
  error: unknown,
  config: RedisConfig,
): RedisError | undefined {
  const denial = aclDenial(error);
  if (denial === undefined) return undefined;
  const what = denial.key ? "access one of its keys" : `run the '${denial.command ?? "?"}' command`;
  return new RedisError(
    "REDIS_NOPERM",
    `Redis refused the ${doing}: ACL user '${aclUser(config)}' may not ${what} (NOPERM). ` +
      `Fix: ${aclFix(denial, config)}. (${describeError(error)})`,
    { cause: error, retryable: false },
  );
}
