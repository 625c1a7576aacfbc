/**
 * How many entries wait for the workers: per consumer group, the entries not
 * yet delivered (`lag`) plus those delivered but not acknowledged
 * (`pending`); the slowest group counts. `lag` is unknown on Redis < 7 and
 * after some deletions: the stream length is used then, an upper bound.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { readGroupInfo } from "../stream/group_info.ts";

/** Unprocessed entries of the slowest group of `stream`; 0 without a stream or groups. */
export async function streamBacklog(redis: Redis, stream: string): Promise<number> {
  let worst = 0;
  let length: number | undefined;
  for (const group of await readGroupInfo(redis, stream)) {
    const lag = group.lag ?? (length ??= await redis.xlen(stream));
    worst = Math.max(worst, group.pending + lag);
  }
  return worst;
}
