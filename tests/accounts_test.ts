/**
 * `ingest accounts add|list|show|remove` against a real redis-server: the
 * registry round trip, validation (exit 2, every problem in one message),
 * --purge-state, the fleet view of owners and states, and no secret in
 * clear anywhere in Redis.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { encodeBase64 } from "../src/auth/token_crypto.ts";
import { runIngest } from "./harness/cli.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { startRedis, type TestRedis } from "./harness/redis_server.ts";

const KEY = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
const PASSWORD = "correct-horse-battery-staple-7f3a";

function envOf(redis: TestRedis, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: redis.url, INGEST_TOKEN_KEY: KEY, ...extra };
}

async function ingest(
  redis: TestRedis,
  args: string[],
  options: { env?: Record<string, string>; stdinLines?: string[] } = {},
) {
  return await runIngest(args, {
    env: options.env ?? envOf(redis),
    stdinLines: options.stdinLines,
  });
}

/** Every key's value (strings, hash fields and values, set and zset members, list items). */
async function everyValue(client: Redis): Promise<string[]> {
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
});

Deno.test("accounts remove keeps the cursor; with --purge-state it deletes that account's state only", async () => {
  await using redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const stateOf = (account: string, mailbox: string) => [
      `producer_state:${account}:${mailbox}:last_uid`,
      `producer_state:${account}:${mailbox}:uidvalidity`,
      `producer_published:${account}:${mailbox}`,
      `producer_lease:${account}:${mailbox}`,
    ];
    const seed = async () => {
      for (
        const key of [...stateOf("a@example.test", "INBOX"), ...stateOf("a@example.test", "Sent")]
      ) {
        await client.set(key, "1");
      }
    };
    for (const key of stateOf("b@example.test", "INBOX")) await client.set(key, "1");
    await seed();
    const add = [
      "accounts",
      "add",
      "--account",
      "a@example.test",
      "--mailbox",
      "INBOX",
      "--mailbox",
      "Sent",
    ];
    assert.equal((await ingest(redis, add)).code, 0);
    const refused = await ingest(redis, ["accounts", "remove", "--account", "a@example.test"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /without --yes/);
    const kept = await ingest(redis, [
      "accounts",
      "remove",
      "--account",
      "a@example.test",
      "--yes",
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(await client.exists(...stateOf("a@example.test", "INBOX")), 4, "state kept");

    assert.equal((await ingest(redis, add)).code, 0);
    const purged = await ingest(redis, [
      "accounts",
      "remove",
      "--account",
      "a@example.test",
      "--purge-state",
      "--yes",
      "--json",
    ]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(JSON.parse(purged.stdout).purged_keys, 8);
    assert.equal(await client.exists(...stateOf("a@example.test", "INBOX")), 0);
    assert.equal(await client.exists(...stateOf("a@example.test", "Sent")), 0);
    assert.equal(await client.exists(...stateOf("b@example.test", "INBOX")), 4, "b untouched");
    const gone = await ingest(redis, [
      "accounts",
      "remove",
      "--account",
      "a@example.test",
      "--yes",
    ]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NOT_FOUND/);
  } finally {
    client.disconnect();
  }
});

Deno.test("accounts list shows the live owner and its reported state, unassigned without a live owner", async () => {
  await using redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    for (const name of ["a", "b", "c", "d"]) {
      assert.equal(
        (await ingest(redis, ["accounts", "add", "--account", `${name}@example.test`])).code,
        0,
      );
    }
    const now = Date.now();
    await client.zadd(
      "ingest_fleet:{fleet}:members",
      now + 30_000,
      "p-live",
      now - 1_000,
      "p-dead",
    );
    await client.set("ingest_fleet:{fleet}:owner:a@example.test", "p-live", "PX", 30_000);
    await client.set("ingest_fleet:{fleet}:owner:b@example.test", "p-dead", "PX", 30_000);
    await client.set("ingest_fleet:{fleet}:owner:c@example.test", "p-live", "PX", 30_000);
    const status = (state: string, owner: string, at: string | null) =>
      JSON.stringify({ state, last_event_at: at, owner });
    await client.hset("ingest_fleet:{fleet}:account_status", {
      "a@example.test": status("needs_reauth", "p-live", "2026-01-02T03:04:05.000Z"),
      "b@example.test": status("idle", "p-dead", null),
      "c@example.test": status("idle", "p-old", "2026-01-01T00:00:00.000Z"),
    });
    const list = await ingest(redis, ["accounts", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout);
    await assertMatchesSchema("accounts_list", doc);
    const byAccount = Object.fromEntries(
      doc.accounts.map((
        a: { account: string; owner: string; state: string; last_event_at: string },
      ) => [a.account, [a.owner, a.state, a.last_event_at]]),
    );
    assert.deepEqual(byAccount, {
      "a@example.test": ["p-live", "needs_reauth", "2026-01-02T03:04:05.000Z"],
      "b@example.test": [null, "unassigned", null],
      "c@example.test": ["p-live", "syncing", "2026-01-01T00:00:00.000Z"],
      "d@example.test": [null, "unassigned", null],
    });
  } finally {
    client.disconnect();
  }
});

Deno.test("no password or token is stored in clear anywhere in Redis", async () => {
  await using redis = await startRedis();
  for (const name of ["a", "b"]) {
    const added = await ingest(redis, [
      "accounts",
      "add",
      "--account",
      `${name}@example.test`,
      "--auth",
      "password",
      "--password-stdin",
    ], { stdinLines: [`${PASSWORD}-${name}`] });
    assert.equal(added.code, 0, added.stderr);
  }
  const client = new Redis(redis.url);
  try {
    const values = await everyValue(client);
    assert.ok(values.length > 0);
    for (const value of values) {
      assert.ok(!value.includes(PASSWORD), `a value holds the password: ${value.slice(0, 80)}`);
      assert.ok(!value.includes(btoa(PASSWORD)), "a value holds the password in base64");
    }
  } finally {
    client.disconnect();
  }
});
