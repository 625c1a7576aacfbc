import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { freePort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";

Deno.test("--env-file must exist; --no-env-file reads none; unknown .env names warn", async () => {
  await using redis = await startRedis();
  const missing = await runIngest(["--env-file", "/nonexistent/ingest.env", "stream", "inspect"]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /--env-file \/nonexistent\/ingest\.env: no such file/);
  assert.match(missing.stderr, /--no-env-file/);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/ingest.env`;
    await Deno.writeTextFile(file, `REDIS_URL=${redis.url}\nREDIS_STRAEM_NAME=x\n`);
    const given = await runIngest(["--env-file", file, "stream", "inspect", "--json"]);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stderr, /sets REDIS_STRAEM_NAME, .* did you mean REDIS_STREAM_NAME\?/);
    // --no-env-file: nothing read, so the default Redis port would be used; prove the file
    // is ignored by the stream name it would otherwise set.
    await Deno.writeTextFile(file, `REDIS_STREAM_NAME=from_file\n`);
    const none = await runIngest(["--no-env-file", "stream", "inspect", "--json"], {
      env: { REDIS_URL: redis.url },
    });
    assert.equal(JSON.parse(none.stdout).stream, "email_ingestion_stream");
    const read = await runIngest(["--env-file", file, "stream", "inspect", "--json"], {
      env: { REDIS_URL: redis.url },
    });
    assert.equal(JSON.parse(read.stdout).stream, "from_file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state reset of an unknown mailbox is an error unless --create; --to-uid is checked against UIDNEXT", async (t) => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  for (let i = 0; i < 3; i++) await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url });
  const lastUid = (mailbox: string) =>
    redis.cli("GET", `producer_state:${TEST_USER}:${mailbox}:last_uid`).then((v) => v.trim());

  await t.step(
    "a misspelt --mailbox exits 2 naming --create, and writes no ghost row",
    async () => {
      await redis.cli("SET", `producer_state:${TEST_USER}:Archive:last_uid`, "4");
      const result = await runIngest(["state", "reset", "--mailbox", "Nope", "--yes"], { env });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /"Nope" has no state/);
      assert.match(result.stderr, /Mailboxes with state: Archive/);
      assert.match(result.stderr, /--create/);
      assert.equal(await lastUid("Nope"), "");
    },
  );

  await t.step(
    "--create starts a cursor for it; configured and stateful mailboxes need none",
    async () => {
      const created = await runIngest(
        ["state", "reset", "--mailbox", "Nope", "--create", "--yes"],
        {
          env,
        },
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal(await lastUid("Nope"), "0");
      for (const mailbox of ["INBOX", "Archive"]) {
        const known = await runIngest(["state", "reset", "--mailbox", mailbox, "--yes"], { env });
        assert.equal(known.code, 0, known.stderr);
      }
    },
  );

  await t.step(
    "--to-uid beyond UIDNEXT warns (checked over IMAP), within it does not",
    async () => {
      const beyond = await runIngest(
        ["state", "reset", "--mailbox", "INBOX", "--to-uid", "50", "--yes", "--json"],
        { env },
      );
      assert.equal(beyond.code, 0, beyond.stderr);
      assert.match(beyond.stderr, /warning: --to-uid 50 is beyond INBOX's UIDNEXT 4/);
      assert.equal(JSON.parse(beyond.stdout).uid_next, 4);
      await redis.cli("SET", `producer_state:${TEST_USER}:INBOX:last_uid`, "1");
      const within = await runIngest([
        "state",
        "reset",
        "--mailbox",
        "INBOX",
        "--to-uid",
        "3",
        "--yes",
      ], {
        env,
      });
      assert.equal(within.code, 0, within.stderr);
      assert.doesNotMatch(within.stderr, /warning|could not check/);
    },
  );

  await t.step("when IMAP cannot be reached it says it could not check", async () => {
    const unreachable = { ...env, IMAP_PORT: String(freePort()), DOCTOR_TIMEOUT_SECONDS: "2" };
    const result = await runIngest(
      ["state", "reset", "--mailbox", "INBOX", "--to-uid", "60", "--yes"],
      { env: unreachable },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /could not check --to-uid 60 against INBOX's UIDNEXT/);
    assert.equal(await lastUid("INBOX"), "60");
  });
});

Deno.test("--account is the one account flag; the seed's --username is its alias", async () => {
  await using redis = await startRedis();
  await redis.cli("SET", "producer_state:me@example.test:INBOX:last_uid", "7");
  const env = { REDIS_URL: redis.url };
  for (const flag of ["--account", "--username"]) {
    const result = await runIngest(["state", "get", flag, "me@example.test", "--json"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).cursors[0].last_uid, 7, flag);
  }
  const help = await runIngest(["produce", "--help"]);
  assert.match(help.stdout, /--username, --account <email>/);
  const missing = await runIngest(["produce", "--once"], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--account \(or IMAP_USER\) is required/);
});
