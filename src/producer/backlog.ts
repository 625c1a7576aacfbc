/**
 * How many entries wait for the workers: per consumer group, the entries not
 * yet delivered (`lag`) plus those delivered but not acknowledged
 * (`pending`); the slowest group counts. `lag` is unknown on Redis < 7 and
 * after some deletions: the stream length is used then, an upper bound.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { isMissingKeyError, pairsToObject } from "../redis/reply.ts";

/** Unprocessed entries of the slowest group of `stream`; 0 without a stream or groups. */
export async function streamBacklog(redis: Redis, stream: string): Promise<number> {
  let groups: unknown[];
  try {
    groups = (await redis.xinfo("GROUPS", stream)) as unknown[];
  } catch (error) {
    if (isMissingKeyError(error)) return 0;
    throw error;
  }
  let worst = 0;
  let length: number | undefined;
  for (const raw of groups) {
    const group = pairsToObject(raw);
    const pending = Number(group.pending ?? 0);
    let lag = group.lag === null || group.lag === undefined ? Number.NaN : Number(group.lag);
    if (Number.isNaN(lag)) lag = length ??= await redis.xlen(stream);
    worst = Math.max(worst, pending + lag);
  }
  return worst;
}
