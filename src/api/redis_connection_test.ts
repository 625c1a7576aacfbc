import assert from "node:assert/strict";
import { InvalidArgumentError } from "../errors.ts";
import { redisClientOf, type RedisConnection, wrapRedis } from "./redis_connection.ts";
import type { RedisClient } from "../redis/client.ts";

Deno.test("redisClientOf() unwraps a handle made by wrapRedis() and refuses any other object", () => {
  const client = { fake: true } as unknown as RedisClient; // only identity matters here
  const connection = wrapRedis(client, "ingest:test");
  assert.equal(connection.name, "ingest:test");
  assert.equal(redisClientOf(connection), client);
  assert.ok(Object.isFrozen(connection));
  const forged: RedisConnection = { name: "ingest:test" };
  assert.throws(() => redisClientOf(forged), InvalidArgumentError);
});
