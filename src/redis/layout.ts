/**
 * The stream layout check: `STREAM_PARTITIONS` is fixed for a deployment.
 * Changing it would map accounts to other partitions, so their cursors
 * would not be found and every mailbox would be read again from the start
 * into another stream. A producer (and a worker) therefore checks the count
 * at start against the one stored in `ingest_layout:<stream>` and refuses to
 * start on a mismatch, with the way out. One partition stores nothing (a
 * deployment of the seed's layout gains no key) but is refused when
 * partition streams exist; a first start with N > 1 is refused when the
 * unpartitioned stream exists.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { RedisClient } from "./client.ts";
import { layoutKey } from "./keys.ts";
import { partitionStream } from "./partitions.ts";

/** Checks (and on first use records) the partition count of `stream`. */
export async function checkStreamLayout(
  redis: RedisClient,
  stream: string,
  partitions: number,
): Promise<void> {
  const key = layoutKey(stream);
  let stored = await redis.get(key);
  if (stored === null) {
    const other = partitions === 1 ? partitionStream(stream, 0) : stream;
    if (await redis.exists(other) === 1) {
      throw mismatch(stream, partitions, partitions === 1 ? "more than 1" : "1", key);
    }
    if (partitions === 1) return;
    // NX: of two first producers starting at once, both end up with the first count.
    await redis.set(key, String(partitions), "NX");
    stored = await redis.get(key);
  }
  if (stored !== String(partitions)) throw mismatch(stream, partitions, stored ?? "?", key);
}

function mismatch(stream: string, partitions: number, stored: string, key: string): ConfigError {
  return new ConfigError([
    `STREAM_PARTITIONS is ${partitions}, but the stream ${stream} in this Redis was set up with ` +
    `${stored} partition(s) (${key}): another count would map accounts to other partitions and ` +
    `read every mailbox again. Set STREAM_PARTITIONS back to ${stored}, or start the new count ` +
    `under another REDIS_STREAM_NAME once the old stream is drained (docs/CLUSTER.md)`,
  ]);
}
