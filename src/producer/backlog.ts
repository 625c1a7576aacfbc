/**
 * How many entries wait for the workers: per consumer group, the entries not
 * yet delivered (`lag`) plus those delivered but not acknowledged
 * (`pending`); the slowest group counts. `lag` is unknown on Redis < 7 and
 * after some deletions: the stream length is used then, an upper bound.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { readGroupInfo } from "../stream/group_info.ts";

/** One group's unprocessed entries. */
export interface GroupBacklog {
  /** Group name. */
  readonly name: string;
  /** Pending plus not yet delivered. */
  readonly backlog: number;
}

/** Unprocessed entries of every group of `stream`; empty without a stream or groups. */
export async function groupBacklogs(redis: RedisClient, stream: string): Promise<GroupBacklog[]> {
  let length: number | undefined;
  const backlogs: GroupBacklog[] = [];
  for (const group of await readGroupInfo(redis, stream)) {
    const lag = group.lag ?? (length ??= await redis.xlen(stream));
    backlogs.push({ name: group.name, backlog: group.pending + lag });
  }
  return backlogs;
}

/** Unprocessed entries of the slowest group of `stream`; 0 without a stream or groups. */
export async function streamBacklog(redis: RedisClient, stream: string): Promise<number> {
  return Math.max(0, ...(await groupBacklogs(redis, stream)).map((g) => g.backlog));
}
