/**
 * Fills a test Redis up to its `maxmemory` with filler keys, so it answers
 * writes with `-OOM` the way a full production Redis (`noeviction`) does,
 * and frees it again. Only for the harness's own redis-server.
 *
 * @module
 */

import type { RedisClient } from "../../src/redis/client.ts";

/** Options of {@link fillRedis}. */
export interface FillOptions {
  /**
   * Sets `maxmemory` to the memory used now plus this many bytes before
   * filling; `undefined` keeps the server's `maxmemory` (which must be set).
   * Default 4 MiB.
   */
  headroomBytes?: number | undefined;
  /** Size of one filler value. Default 64 KiB. */
  chunkBytes?: number;
  /** Prefix of the filler keys. Default `fill:`. */
  prefix?: string;
  /**
   * Once full, `maxmemory` is lowered to this many bytes below `used_memory`,
   * so small frees (a client's query buffer, an XACK) do not end the OOM on
   * their own. Default 512 KiB.
   */
  marginBytes?: number;
}

/** A filled Redis. */
export interface FilledRedis {
  /** Filler keys written. */
  readonly keys: number;
  /** `used_memory` and `maxmemory` once full (RedisClient compares them less its buffers). */
  readonly usedBytes: number;
  readonly maxBytes: number;
  /** Deletes the filler keys (DEL works under OOM), so writes are accepted again. */
  free(): Promise<void>;
}

/** `used_memory` and `maxmemory` from INFO memory. */
export async function memoryUse(redis: RedisClient): Promise<{ used: number; max: number }> {
  const info = await redis.info("memory");
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { used: field("used_memory"), max: field("maxmemory") };
}

/** Writes filler values until Redis refuses them with OOM; see {@link FilledRedis}. */
export async function fillRedis(
  redis: RedisClient,
  options: FillOptions = {},
): Promise<FilledRedis> {
  const prefix = options.prefix ?? "fill:";
  const chunk = "x".repeat(options.chunkBytes ?? 64 * 1024);
  const headroom = "headroomBytes" in options ? options.headroomBytes : 4 * 1024 * 1024;
  if (headroom !== undefined) {
    const { used } = await memoryUse(redis);
    await redis.config("SET", "maxmemory", String(used + headroom));
  }
  await redis.config("SET", "maxmemory-policy", "noeviction");
  let keys = 0;
  let refused = false;
  for (let i = 0; i < 100_000 && !refused; i++) {
    try {
      await redis.set(`${prefix}${i}`, chunk);
      keys++;
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("OOM"))) throw error;
      refused = true;
    }
  }
  const full = await memoryUse(redis);
  const margin = options.marginBytes ?? 512 * 1024;
  await redis.config("SET", "maxmemory", String(Math.max(1, full.used - margin)));
  const { used, max } = await memoryUse(redis);
  if (!refused) {
    throw new Error(
      `fillRedis: RedisClient accepted ${keys} fillers without refusing (maxmemory ${max})`,
    );
  }
  return {
    keys,
    usedBytes: used,
    maxBytes: max,
    async free() {
      for (let i = 0; i < keys; i += 500) {
        const batch = Array.from(
          { length: Math.min(500, keys - i) },
          (_, j) => `${prefix}${i + j}`,
        );
        await redis.del(...batch);
      }
    },
  };
}
