/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not
 * know it yet (first use, or after a Redis restart flushed the script cache).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { RedisClient } from "./client.ts";

/** Every script's source by SHA1: Redis names a script only by its hash in errors. */
const SOURCES = new Map<string, string>();

/** The source of the script with SHA1 `sha`, when it is one of ours. */
export function scriptSource(sha: string): string | undefined {
  return SOURCES.get(sha);
}

/** A server-side script. */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
    SOURCES.set(this.sha, source);
  }

  /** Runs the script with `keys` and `args`. */
  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
