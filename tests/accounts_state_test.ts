/**
 * What `ingest accounts` leaves in Redis, against a real redis-server (and
 * Dovecot): --purge-state, the fleet view of owners and states, no secret in
 * clear, and a CLI-added password account logging in.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { accountImapCredentials } from "../src/accounts/credentials.ts";
import { getAccount } from "../src/accounts/registry.ts";
import { loadConfig } from "../src/config/config.ts";
import { loginImap } from "../src/imap/imap_login.ts";
import { silentLogger } from "../src/log/logger.ts";
import { envOf, everyValue, ingest, PASSWORD } from "./harness/accounts_cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { startRedis } from "./harness/redis_server.ts";

Deno.test("accounts remove keeps the cursor; with --purge-state it deletes that account's state only", async () => {
  await using redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const stateOf = (account: string, mailbox: string) => [
      `producer_state:${account}:${mailbox}:last_uid`,
      `producer_state:${account}:${mailbox}:uidvalidity`,
      `producer_published:${account}:${mailbox}`,
      `producer_lease:${account}:${mailbox}`,
      `producer_backfill:${account}:${mailbox}`,
      `producer_modseq:${account}:${mailbox}`,
      `producer_flags:${account}:${mailbox}`,
      `producer_entry_counts:${account}:${mailbox}`,
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
    assert.equal(await client.exists(...stateOf("a@example.test", "INBOX")), 8, "state kept");

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
    assert.equal(JSON.parse(purged.stdout).purged_keys, 16);
    assert.equal(await client.exists(...stateOf("a@example.test", "INBOX")), 0);
    assert.equal(await client.exists(...stateOf("a@example.test", "Sent")), 0);
    assert.equal(await client.exists(...stateOf("b@example.test", "INBOX")), 8, "b untouched");
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

Deno.test("a password account added with the CLI logs in to Dovecot through accountImapCredentials()", async () => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot({
    users: [{ user: "carol@example.test", password: PASSWORD }],
  });
  const added = await ingest(redis, [
    "accounts",
    "add",
    "--account",
    "carol@example.test",
    "--auth",
    "password",
    "--password-stdin",
  ], { stdinLines: [PASSWORD] });
  assert.equal(added.code, 0, added.stderr);
  const client = new Redis(redis.url);
  try {
    const record = await getAccount(client, "carol@example.test");
    assert.ok(record);
    const config = loadConfig({ env: envOf(redis) });
    const credentials = accountImapCredentials(record, { config, logger: silentLogger });
    const imap = await loginImap({
      server: { host: dovecot.host, port: dovecot.port, secure: false },
      credentials,
      logger: silentLogger,
    });
    try {
      assert.ok(imap.usable, "logged in");
    } finally {
      await imap.logout();
    }
  } finally {
    client.disconnect();
  }
});
