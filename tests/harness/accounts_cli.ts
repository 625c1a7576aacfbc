/**
 * `ingest accounts` in tests: the environment pointing at a test Redis with a
 * fresh INGEST_TOKEN_KEY, the CLI run in-process, and every value in Redis
 * (to prove no secret is stored in clear).
 *
 * @module
 */

import type { Redis } from "ioredis";
import { encodeBase64 } from "../../src/auth/token_crypto.ts";
import { type CliResult, runIngest } from "./cli.ts";
import type { TestRedis } from "./redis_server.ts";

/** The token key of these tests' runs. */
export const KEY = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
/** A password that must never appear in clear. */
export const PASSWORD = "correct-horse-battery-staple-7f3a";

/** `REDIS_URL` of `redis` and {@link KEY}, plus `extra`. */
export function envOf(
  redis: TestRedis,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { REDIS_URL: redis.url, INGEST_TOKEN_KEY: KEY, ...extra };
}

/** `ingest <args>` in-process against `redis` (default env: {@link envOf}). */
export async function ingest(
  redis: TestRedis,
  args: string[],
  options: { env?: Record<string, string>; stdinLines?: string[] } = {},
): Promise<CliResult> {
  return await runIngest(args, {
    env: options.env ?? envOf(redis),
    stdinLines: options.stdinLines,
  });
}

/** Every key's value (strings, hash fields and values, set and zset members, list items). */
export async function everyValue(client: Redis): Promise<string[]> {
  const values: string[] = [];
  for (const key of await client.keys("*")) {
    const type = await client.type(key);
    values.push(key);
    if (type === "string") values.push((await client.get(key)) ?? "");
    if (type === "hash") values.push(...Object.entries(await client.hgetall(key)).flat());
    if (type === "set") values.push(...await client.smembers(key));
    if (type === "zset") values.push(...await client.zrange(key, 0, -1));
    if (type === "list") values.push(...await client.lrange(key, 0, -1));
  }
  return values;
}
