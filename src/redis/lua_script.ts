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

  /** Runs the script with `keys` and `args`; strings in the reply come as text. */
  run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    return this.#send((name, ...rest) => redis.call(name, ...rest), keys, args);
  }

  /** {@link run}, with every string in the reply as its bytes (a `Buffer`). */
  runForBytes(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    return this.#send((name, ...rest) => redis.callBuffer(name, ...rest), keys, args);
  }

  async #send(
    call: (name: "EVALSHA" | "EVAL", ...rest: ScriptArgument[]) => Promise<unknown>,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    try {
      return await call("EVALSHA", this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return await call("EVAL", this.source, keys.length, ...keys, ...args);
    }
  }
}

/** A key or argument of a script. */
type ScriptArgument = string | number | Buffer;
