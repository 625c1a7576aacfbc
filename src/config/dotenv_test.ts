import assert from "node:assert/strict";
import { dotenvWarnings, parseDotenv, unknownDotenvNames } from "./dotenv.ts";

Deno.test("parseDotenv() reads keys, quotes, export and comments", async () => {
  const parsed = await parseDotenv([
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

Deno.test("parseDotenv() keeps a quoted value that spans lines whole", async () => {
  const parsed = await parseDotenv('KEY="line1\nline2\nline3"\nNEXT=after\n');
  assert.equal(parsed.KEY, "line1\nline2\nline3");
  assert.equal(parsed.NEXT, "after");
});

Deno.test("parseDotenv() ends a quoted value at its closing quote, before a comment", async () => {
  assert.equal((await parseDotenv("A='a' # it's fine")).A, "a");
  assert.equal((await parseDotenv('B="b" # say "hi"')).B, "b");
  assert.equal((await parseDotenv("C=`c` # back`ticks`")).C, "c");
});

Deno.test("parseDotenv() trims unquoted values and reads CRLF files", async () => {
  assert.deepEqual(await parseDotenv("A =  spaced out  \r\nB=2\r\n"), { A: "spaced out", B: "2" });
});

Deno.test("unknownDotenvNames() names the closest known variable of a misspelling", () => {
  const unknown = unknownDotenvNames({
    IMAP_USR: "me",
    redis_host: "x",
    REDIS_PORT: "6380",
    COMPLETELY_UNRELATED_THING: "1",
  });
  assert.deepEqual(unknown, [
    { name: "IMAP_USR", closest: "IMAP_USER" },
    { name: "redis_host", closest: "REDIS_HOST" },
    { name: "COMPLETELY_UNRELATED_THING", closest: null },
  ]);
});

Deno.test("dotenvWarnings() says what to do for each unknown name", () => {
  const warnings = dotenvWarnings(".env", { BATCH_SIZ: "10", IMAP_HOST: "h" });
  assert.deepEqual(warnings, [
    "warning: .env sets BATCH_SIZ, which ingest does not read: did you mean BATCH_SIZE?",
  ]);
});
