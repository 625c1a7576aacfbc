/**
 * `ingest accounts add|list|show|remove` against a real redis-server: the
 * registry round trip, validation (exit 2, every problem in one message) and
 * `--update`. State, fleet view and secrets: tests/accounts_state_test.ts.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ingest, PASSWORD } from "./harness/accounts_cli.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { startRedis } from "./harness/redis_server.ts";

Deno.test("accounts add, list, show and remove round-trip through the registry", async () => {
  await using redis = await startRedis();
  const added = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "pw@example.test",
    "--auth",
    "password",
    "--password-stdin",
    "--mailbox",
    "INBOX",
    "--mailbox",
    "Sent",
    "--alias",
    "pw-box",
    "--json",
  ], { stdinLines: [PASSWORD] });
  assert.equal(added.code, 0, added.stderr);
  const addDoc = JSON.parse(added.stdout);
  await assertMatchesSchema("accounts_add", addDoc);
  assert.equal(addDoc.created, true);
  assert.equal(addDoc.password_stored, true);
  const oauth = await ingest(redis, ["accounts", "add", "--account", "o@example.test"]);
  assert.equal(oauth.code, 0, oauth.stderr);
  assert.match(oauth.stdout, /Added o@example\.test \(oauth2, mailboxes: INBOX\)/);
  assert.match(oauth.stderr, /ingest auth setup --account o@example\.test/);

  const list = await ingest(redis, ["accounts", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const listDoc = JSON.parse(list.stdout);
  await assertMatchesSchema("accounts_list", listDoc);
  assert.deepEqual(listDoc.accounts, [
    {
      account: "o@example.test",
      alias: null,
      auth: "oauth2",
      mailboxes: ["INBOX"],
      owner: null,
      state: "unassigned",
      last_event_at: null,
    },
    {
      account: "pw@example.test",
      alias: "pw-box",
      auth: "password",
      mailboxes: ["INBOX", "Sent"],
      owner: null,
      state: "unassigned",
      last_event_at: null,
    },
  ]);
  const show = await ingest(redis, ["accounts", "show", "--account", "pw@example.test", "--json"]);
  assert.equal(show.code, 0, show.stderr);
  const showDoc = JSON.parse(show.stdout);
  await assertMatchesSchema("accounts_show", showDoc);
  assert.equal(showDoc.password_stored, true);
  const seedFlag = await ingest(redis, ["accounts", "show", "--username", "pw@example.test"]);
  assert.equal(seedFlag.code, 0, "the seed's --username is --account's alias");
  assert.ok(!show.stdout.includes(PASSWORD));

  const removed = await ingest(redis, [
    "accounts",
    "remove",
    "--account",
    "pw@example.test",
    "--yes",
    "--json",
  ]);
  assert.equal(removed.code, 0, removed.stderr);
  const removeDoc = JSON.parse(removed.stdout);
  await assertMatchesSchema("accounts_remove", removeDoc);
  assert.deepEqual(removeDoc, {
    account: "pw@example.test",
    removed: true,
    purge_state: false,
    purged_keys: 0,
  });
  const again = await ingest(redis, ["accounts", "show", "--account", "pw@example.test"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /\[NOT_FOUND\].*not registered/);
  const text = await ingest(redis, ["accounts", "list"]);
  assert.match(text.stdout, /^ACCOUNT\s+ALIAS\s+AUTH/);
  assert.match(text.stdout, /o@example\.test\s+-\s+oauth2\s+INBOX\s+-\s+unassigned/);
});

Deno.test("accounts add names every problem in one message, exits 2 and writes nothing", async () => {
  await using redis = await startRedis();
  const sixteen = Array.from({ length: 16 }, (_, i) => ["--mailbox", `Box${i}`]).flat();
  const many = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "not an address",
    "--auth",
    "password",
    "--alias",
    "has space",
    ...sixteen,
    "--mailbox",
    "Box3",
  ], { env: { REDIS_URL: redis.url } });
  assert.equal(many.code, 2, many.stderr);
  const message = many.stderr;
  assert.equal(message.match(/error \[USAGE\]/g)?.length, 1, message);
  assert.match(message, /"not an address" is not an email address/);
  assert.match(message, /17 mailboxes given: at most 15 per account/);
  assert.match(message, /--mailbox "Box3" is given twice/);
  assert.match(message, /--alias "has space" must be/);
  assert.match(message, /--auth password needs --password-stdin/);
  assert.match(message, /INGEST_TOKEN_KEY is not set/);

  const noKey = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "a@example.test",
    "--auth",
    "password",
    "--password-stdin",
  ], { env: { REDIS_URL: redis.url }, stdinLines: [PASSWORD] });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /INGEST_TOKEN_KEY is not set/);
  const badAuth = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "a@example.test",
    "--auth",
    "x",
  ]);
  assert.equal(badAuth.code, 2);
  assert.match(badAuth.stderr, /--auth "x" is not one of oauth2, password/);
  const client = new Redis(redis.url);
  try {
    assert.deepEqual(await client.keys("*"), [], "nothing was written");
  } finally {
    client.disconnect();
  }
});

Deno.test("accounts add refuses an existing account unless --update, which keeps what is not given", async () => {
  await using redis = await startRedis();
  const add = ["accounts", "add", "--account", "a@example.test", "--auth", "password"];
  const first = await ingest(redis, [...add, "--password-stdin", "--alias", "a"], {
    stdinLines: [PASSWORD],
  });
  assert.equal(first.code, 0, first.stderr);
  const twice = await ingest(redis, [...add, "--password-stdin"], { stdinLines: [PASSWORD] });
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /already registered: pass --update/);
  const update = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "a@example.test",
    "--mailbox",
    "Archive",
    "--update",
    "--json",
  ]);
  assert.equal(update.code, 0, update.stderr);
  const doc = JSON.parse(update.stdout);
  assert.equal(doc.created, false);
  assert.deepEqual(
    [doc.auth, doc.alias, doc.mailboxes, doc.password_stored],
    ["password", "a", ["Archive"], true],
  );
  const other = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "b@example.test",
    "--alias",
    "a",
  ]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--alias "a" is already used by another account/);
  const upper = await ingest(redis, ["accounts", "add", "--account", "A@Example.test"]);
  assert.equal(upper.code, 2);
  assert.match(
    upper.stderr,
    /already registered as a@example\.test \(the addresses differ only in case\)/,
  );
});
