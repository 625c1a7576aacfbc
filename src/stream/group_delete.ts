/**
 * Deleting a consumer group (`ingest group delete`): `XGROUP DESTROY` plus
 * the group's own bookkeeping (retry schedule, attempt counts). The stream and
 * its entries stay, and so do the group's processed-records (they expire with
 * PROCESSED_TTL_SECONDS), so a group created again under the same name does
 * not hand an entry it had handled to a sink again.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { attemptsKey, retryScheduleKey } from "../redis/keys.ts";
import { type GroupInfo, readGroupInfo } from "./group_info.ts";

/** The group {@link findGroup} found, or `undefined`, with the names of the others. */
export interface GroupLookup {
  /** The group, when it exists. */
  readonly group: GroupInfo | undefined;
  /** Every group of the stream, by name. */
  readonly names: readonly string[];
}

/** Looks `group` up among the consumer groups of `stream`. */
export async function findGroup(
  redis: RedisClient,
  stream: string,
  group: string,
): Promise<GroupLookup> {
  const groups = await readGroupInfo(redis, stream);
  return { group: groups.find((g) => g.name === group), names: groups.map((g) => g.name) };
}

/** Destroys `group` of `stream` and its retry bookkeeping; returns whether it existed. */
export async function deleteGroup(
  redis: RedisClient,
  stream: string,
  group: string,
): Promise<boolean> {
  const destroyed = Number(await redis.xgroup("DESTROY", stream, group));
  await redis.del(retryScheduleKey(stream, group), attemptsKey(stream, group));
  return destroyed === 1;
}
