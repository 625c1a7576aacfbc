import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

Deno.test("produce names every flag and environment problem in one message, exit 2, nothing written", async () => {
  await using redis = await startRedis();
  const result = await runIngest(["produce", "--once", "--lease-ttl", "x", "--start", "someday"], {
    env: {
      REDIS_URL: redis.url,
      BATCH_SIZE: "abc",
      IMAP_PORT: "99999",
      IMAP_USER: "a@example.test",
    },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr.match(/error/g)?.length, 1, result.stderr);
  for (const name of ["--lease-ttl", "--start", "BATCH_SIZE", "IMAP_PORT"]) {
    assert.ok(result.stderr.includes(name), `${name} missing from:\n${result.stderr}`);
  }
  assert.equal((await redis.cli("DBSIZE")).trim(), "0");
});

Deno.test("state reset names its flag problems and the configuration's together", async () => {
  const result = await runIngest(["state", "reset", "--mailbox", "INBOX", "--to-uid", "-3"], {
    env: { REDIS_PORT: "nope" },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--to-uid/);
  assert.match(result.stderr, /REDIS_PORT/);
  assert.match(result.stderr, /--yes/);
});

Deno.test("a REDIS_URL whose path is not a database number is a configuration error naming REDIS_URL", async () => {
  await using redis = await startRedis();
  for (const args of [["stream", "inspect"], ["produce", "--once"]]) {
    const result = await runIngest(args, {
      env: { REDIS_URL: `${redis.url}/abc`, IMAP_USER: "a@example.test" },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /REDIS_URL: the path must be a database number 0\.\.15/);
    assert.doesNotMatch(result.stderr, /ReplyError|Uncaught/);
  }
});

Deno.test("a database number the server refuses fails the start instead of writing to database 0", async () => {
  await using redis = await startRedis({ args: ["--databases", "4"] });
  const result = await runIngest(["state", "reset", "--mailbox", "INBOX", "--yes"], {
    env: { REDIS_URL: `${redis.url}/10`, IMAP_USER: "a@example.test" },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /REDIS_URL selects database 10, which Redis .* refuses/);
  assert.equal((await redis.cli("-n", "0", "DBSIZE")).trim(), "0");
  const fine = await runIngest(["state", "reset", "--mailbox", "INBOX", "--yes"], {
    env: { REDIS_URL: `${redis.url}/3`, IMAP_USER: "a@example.test" },
  });
  assert.equal(fine.code, 0, fine.stderr);
  assert.notEqual((await redis.cli("-n", "3", "DBSIZE")).trim(), "0", "written to database 3");
  assert.equal((await redis.cli("-n", "0", "DBSIZE")).trim(), "0");
});

Deno.test("a mailbox that does not exist fails at once naming IMAP_MAILBOX, while the others sync", async () => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  await dovecot.append(TEST_USER, "INBOX", await realisticMessage(1));
  const started = performance.now();
  const result = await runIngest([
    "produce",
    "--once",
    "--mailbox",
    "INBOX",
    "--mailbox",
    "Nowhere",
  ], {
    env: pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url }),
  });
  assert.equal(result.code, 1, result.stderr);
  assert.ok(performance.now() - started < 10_000, "no backoff");
  assert.match(
    result.stderr,
    /error: mailbox Nowhere failed: The mailbox "Nowhere" does not exist/,
  );
  assert.match(result.stderr, /IMAP_MAILBOX/);
  assert.doesNotMatch(result.stderr, /mailbox failed: retrying/);
  assert.equal((await redis.cli("XLEN", "email_ingestion_stream")).trim(), "1", "INBOX synced");
});
