import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";

Deno.test("state and stream inspect against a real Redis", async (t) => {
  await using redis = await startRedis();
  const env = { REDIS_URL: redis.url };

  await t.step("state get on an empty Redis says there is no state, as JSON", async () => {
    const result = await runIngest(["state", "get", "--mailbox", "INBOX", "--json"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      account: null,
      mailboxes: ["INBOX"],
      found: false,
      cursors: [],
      totals: { mailboxes: 0, total_emails: 0 },
      partitions: [{ partition: null, mailboxes: 0, total_emails: 0 }],
    });
  });

  await t.step("stream inspect on a missing stream reports length 0", async () => {
    const result = await runIngest(["stream", "inspect", "--json"], { env });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.length, 0);
    assert.equal(report.exists, false);
    assert.deepEqual(report.groups, []);
  });

  await t.step("state reads the seed's keys, so redis-cli runbooks keep working", async () => {
    await redis.cli("SET", "producer_state:me@example.test:INBOX:last_uid", "42");
    await redis.cli("SET", "producer_state:me@example.test:INBOX:uidvalidity", "7");
    await redis.cli("SET", "producer_state:me@example.test:INBOX:total_emails", "40");
    await redis.cli("SET", "producer_state:me@example.test:[Gmail]/All Mail:last_uid", "9");
    const get = await runIngest(["state", "get", "--account", "me@example.test", "--json"], {
      env,
    });
    assert.equal(get.code, 0, get.stderr);
    const cursor = JSON.parse(get.stdout).cursors[0];
    assert.deepEqual(cursor, {
      account: "me@example.test",
      mailbox: "INBOX",
      partition: null,
      last_uid: 42,
      uidvalidity: 7,
      last_poll: null,
      total_emails: 40,
      backfill: null,
    });
    const list = await runIngest(["state", "list", "--json"], { env });
    assert.deepEqual(JSON.parse(list.stdout).cursors.map((c: { mailbox: string }) => c.mailbox), [
      "INBOX",
      "[Gmail]/All Mail",
    ]);
    const human = await runIngest(["state", "list"], { env });
    assert.match(human.stdout, /LAST_UID/);
    assert.match(human.stdout, /\[Gmail\]\/All Mail\s+9/);
  });

  await t.step("state reset refuses without --yes off a terminal and changes nothing", async () => {
    const result = await runIngest([
      "state",
      "reset",
      "--mailbox",
      "INBOX",
      "--account",
      "me@example.test",
    ], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--yes/);
    assert.equal(
      (await redis.cli("GET", "producer_state:me@example.test:INBOX:last_uid")).trim(),
      "42",
    );
  });

  await t.step("state reset on a terminal asks, and 'n' changes nothing", async () => {
    const result = await runIngest([
      "state",
      "reset",
      "--mailbox",
      "INBOX",
      "--account",
      "me@example.test",
    ], {
      env,
      interactive: true,
      stdinLines: ["n"],
    });
    assert.equal(result.code, 0);
    assert.match(result.stderr, /Aborted/);
    assert.equal(
      (await redis.cli("GET", "producer_state:me@example.test:INBOX:last_uid")).trim(),
      "42",
    );
  });

  await t.step("state reset --yes --to-uid moves the cursor", async () => {
    const result = await runIngest(
      [
        "state",
        "reset",
        "--mailbox",
        "INBOX",
        "--account",
        "me@example.test",
        "--to-uid",
        "10",
        "--yes",
        "--json",
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      account: "me@example.test",
      mailbox: "INBOX",
      partition: null,
      previous_last_uid: 42,
      last_uid: 10,
    });
    assert.equal(
      (await redis.cli("GET", "producer_state:me@example.test:INBOX:last_uid")).trim(),
      "10",
    );
  });

  await t.step("state reset names every usage problem at once", async () => {
    const result = await runIngest(["state", "reset", "--mailbox", "INBOX", "--to-uid", "x"], {
      env,
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--to-uid/);
    assert.match(result.stderr, /--account/);
    assert.match(result.stderr, /--yes/);
  });

  await t.step("stream inspect shows groups, pending, lag and the oldest pending age", async () => {
    const stream = "email_ingestion_stream";
    for (let i = 0; i < 5; i++) {
      await redis.cli(
        "XADD",
        stream,
        "*",
        "type",
        "email",
        "idempotency_key",
        `k${i}`,
        "payload",
        "{}",
      );
    }
    await redis.cli("XGROUP", "CREATE", stream, "email_workers", "0");
    await redis.cli(
      "XREADGROUP",
      "GROUP",
      "email_workers",
      "worker-a",
      "COUNT",
      "2",
      "STREAMS",
      stream,
      ">",
    );
    await redis.cli("XADD", `${stream}:dlq`, "*", "reason", "x");
    const result = await runIngest(["stream", "inspect", "--json", "--tail", "2"], { env });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.length, 5);
    assert.equal(report.dlq.length, 1);
    assert.equal(report.groups.length, 1);
    const group = report.groups[0];
    assert.equal(group.name, "email_workers");
    assert.equal(group.pending, 2);
    assert.equal(group.lag, 3);
    assert.equal(group.consumers[0].name, "worker-a");
    assert.equal(group.consumers[0].pending, 2);
    assert.ok(group.oldest_pending_age_ms >= 0);
    assert.deepEqual(
      report.tail.map((e: { fields: { idempotency_key: string } }) => e.fields.idempotency_key),
      ["k3", "k4"],
    );
    const human = await runIngest(["stream", "inspect"], { env });
    assert.match(human.stdout, /email_workers\s+1\s+2\s+3/);
  });
});

Deno.test("bad configuration exits 2 with one message naming every problem", async () => {
  const result = await runIngest(["state", "list"], {
    env: { REDIS_PORT: "abc", IMAP_PORT: "70000" },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /REDIS_PORT/);
  assert.match(result.stderr, /IMAP_PORT/);
  assert.equal(result.stdout, "");
});

Deno.test("an unreachable Redis is a clear error and exit 1, not a hang", async () => {
  const started = Date.now();
  const result = await runIngest(["stream", "inspect"], {
    env: { REDIS_URL: "redis://127.0.0.1:1" },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  assert.ok(Date.now() - started < 10_000);
});

Deno.test("--help lists the commands with examples", async () => {
  const result = await runIngest(["--help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /state/);
  assert.match(result.stdout, /stream/);
  assert.match(result.stdout, /Examples:/);
});

Deno.test("an unknown flag is a usage error (exit 2)", async () => {
  const result = await runIngest(["state", "list", "--bogus"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown option/);
});
