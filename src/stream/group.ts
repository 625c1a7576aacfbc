/**
 * The worker consumer group, created by the producer before its first write
 * (`XGROUP CREATE ... 0 MKSTREAM`) so that trimming, which keeps everything a
 * group has not acknowledged, protects entries even before any worker ran.
 *
 * The group is looked up first (`XINFO GROUPS`, a read): a Redis past
 * `maxmemory` refuses `XGROUP CREATE ... MKSTREAM` with `-OOM` even when the
 * group already exists, and a producer restarted on a full Redis must not
 * fail on a group it does not need to create (issue 11).
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { readGroupInfo } from "./group_info.ts";

/**
 * Creates `group` on `stream` reading from the beginning; an existing group
 * is left alone without any write. Throws Redis's reply (e.g. `-OOM`) when the
 * group is missing and cannot be created.
 */
export async function ensureGroup(
  redis: RedisClient,
  stream: string,
  group: string,
): Promise<void> {
  const groups = await readGroupInfo(redis, stream);
  if (groups.some((g) => g.name === group)) return;
  try {
    await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
  } catch (error) {
    // Another process created it between the look-up and the create.
    if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error;
  }
}
