/**
 * The worker consumer group, created by the producer before its first write
 * (`XGROUP CREATE ... 0 MKSTREAM`) so that trimming, which keeps everything a
 * group has not acknowledged, protects entries even before any worker ran.
 *
 * @module
 */

import type { Redis } from "ioredis";

/** Creates `group` on `stream` reading from the beginning; an existing group is left alone. */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error;
  }
}
