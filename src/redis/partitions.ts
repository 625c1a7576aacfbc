/**
 * The streams of a partitioned deployment (`STREAM_PARTITIONS`).
 *
 * @module
 */

import { partitionTag } from "./keys.ts";

/**
 * The stream names of `n` partitions of `stream`: `[stream]` for one
 * partition (the name as it always was), else `<stream>:{p0}` ..
 * `<stream>:{p<n-1>}`; the hash tag puts each partition's keys in one slot.
 */
export function partitionStreams(stream: string, n: number): string[] {
  if (n <= 1) return [stream];
  return Array.from({ length: n }, (_, i) => `${stream}:${partitionTag(i)}`);
}
