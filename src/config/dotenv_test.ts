import assert from "node:assert/strict";
import { parseDotenv } from "./dotenv.ts";

Deno.test("parseDotenv() reads keys, quotes, export and comments", () => {
  const parsed = parseDotenv([
    "# comment",
    "REDIS_HOST=redis.local",
    "export IMAP_USER=me@example.com",
    'GREETING="hello\\nworld"',
    "SINGLE='a # not a comment'",
    "TRAILING=value # a comment",
    "EMPTY=",
    "not a line",
  ].join("\n"));
  assert.deepEqual(parsed, {
    REDIS_HOST: "redis.local",
    IMAP_USER: "me@example.com",
    GREETING: "hello\nworld",
    SINGLE: "a # not a comment",
    TRAILING: "value",
    EMPTY: "",
  });
});
