/**
 * The one reader of `XINFO GROUPS`: every module that needs a stream's
 * consumer groups (stream report, producer backlog, worker readiness)
 * reads them here, so the reply is parsed in one place.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { isMissingKeyError, pairsToObject } from "../redis/reply.ts";

/** One consumer group as `XINFO GROUPS` describes it. */
export interface GroupInfo {
  /** Group name. */
  readonly name: string;
  /** Consumers in the group. */
  readonly consumers: number;
  /** Entries delivered and not yet acknowledged. */
  readonly pending: number;
  /** Entries not yet delivered; `null` when Redis cannot tell (RedisClient < 7, some deletions). */
  readonly lag: number | null;
  /** Last id delivered to the group. */
  readonly lastDeliveredId: string;
}

/** Turns one raw `XINFO GROUPS` item (flat pairs) into a {@link GroupInfo}. */
export function parseGroupInfo(raw: unknown): GroupInfo {
  const info = pairsToObject(raw);
  const lag = info.lag === null || info.lag === undefined ? Number.NaN : Number(info.lag);
  return {
    name: String(info.name ?? ""),
    consumers: Number(info.consumers ?? 0),
    pending: Number(info.pending ?? 0),
    lag: Number.isNaN(lag) ? null : lag,
    lastDeliveredId: String(info["last-delivered-id"] ?? ""),
  };
}

/** The consumer groups of `stream`; an empty list when the stream does not exist. */
export async function readGroupInfo(redis: RedisClient, stream: string): Promise<GroupInfo[]> {
  let raw: unknown[];
  try {
    raw = (await redis.xinfo("GROUPS", stream)) as unknown[];
  } catch (error) {
    if (isMissingKeyError(error)) return [];
    throw error;
  }
  return raw.map(parseGroupInfo);
}
