/**
 * Readiness checks shared by the long-running commands.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { describeError } from "../errors.ts";
import { withDeadline } from "../async/deadline.ts";

/** The verdict of one check, as shown in `/ready`. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it is not ok (or a short fact when it is). */
  readonly detail?: string;
}

/** Redis answers PING within `timeoutMs` (default 2000). */
export async function checkRedis(redis: RedisClient, timeoutMs = 2_000): Promise<CheckResult> {
  try {
    const reply = await withDeadline(redis.ping(), timeoutMs, "Redis PING");
    return reply === "PONG" ? { ok: true } : { ok: false, detail: `PING answered ${reply}` };
  } catch (error) {
    return { ok: false, detail: describeError(error) };
  }
}
