/**
 * The README's least-privilege Redis ACL lines (between `<!-- acl:start -->`
 * and `<!-- acl:end -->`) run as written against a harness redis-server;
 * then producer, worker and exporter each run as their restricted user.
 * Removing one permission makes the run fail with NOPERM, so the test can fail.
 */

import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis, type TestRedis } from "./harness/redis_server.ts";
import { emailEntryFields } from "../src/stream/entry.ts";
import { emailPayload } from "./worker_fixtures.ts";

const PASSWORDS = {
  INGEST_PRODUCER_REDIS_PASSWORD: "producer-pw-1",
  INGEST_WORKER_REDIS_PASSWORD: "worker-pw-2",
  INGEST_EXPORTER_REDIS_PASSWORD: "exporter-pw-3",
};

/** The ACL lines of the README, as an operator copies them. */
async function readmeAclLines(): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = /<!-- acl:start -->([\s\S]*?)<!-- acl:end -->/.exec(readme)?.[1] ?? "";
  return block.split("\n").filter((line) => line.startsWith("redis-cli "));
}

async function shell(command: string, env: Record<string, string>): Promise<string> {
  const run = await new Deno.Command("sh", {
    args: ["-c", command],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, `${command}\n${out}`);
  return out;
}

/** What the ACL refused so far, one `user: reason object` per line (for failure messages). */
async function refused(redis: TestRedis): Promise<string> {
  const lines = (await redis.cli("ACL", "LOG")).split("\n");
  const found: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "reason") continue;
    const field = (name: string) => lines[lines.indexOf(name, i) + 1];
    found.push(`${field("username")}: ${lines[i + 1]} ${field("object")}`);
  }
  return found.join("\n");
}

function userUrl(redis: TestRedis, user: string, password: string): string {
  return `redis://${user}:${password}@127.0.0.1:${redis.port}`;
}

async function scrapeOnce(env: Record<string, string>): Promise<{ body: string; stderr: string }> {
  const port = freePort();
  const controller = new AbortController();
  const run = runIngest(["metrics", "serve", "--port", String(port)], {
    env,
    signal: controller.signal,
  });
  try {
    await waitForPort(port);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return { body: await response.text(), stderr: "" };
  } finally {
    controller.abort();
    const finished = await run;
    assert.equal(finished.code, 0, finished.stderr);
  }
}

Deno.test("producer, worker and exporter run as the README's least-privilege Redis users", async (t) => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  for (let i = 0; i < 3; i++) await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  const lines = await readmeAclLines();
  assert.equal(lines.length, 3, "one line per user");
  for (const line of lines) {
    assert.match(await shell(line, { REDIS_URL: redis.url, ...PASSWORDS }), /^OK/);
  }
  const imap = pipelineEnv({ imapPort: dovecot.port });
  const as = (user: string, password: string) => ({
    ...imap,
    REDIS_URL: userUrl(redis, user, password),
  });
  const producer = as("ingest-producer", PASSWORDS.INGEST_PRODUCER_REDIS_PASSWORD);
  const worker = as("ingest-worker", PASSWORDS.INGEST_WORKER_REDIS_PASSWORD);
  const exporter = as("ingest-exporter", PASSWORDS.INGEST_EXPORTER_REDIS_PASSWORD);
  const out = await Deno.makeTempFile({ suffix: ".jsonl" });

  await t.step("ingest produce --once as ingest-producer", async () => {
    const run = await runIngest(["produce", "--once"], { env: producer });
    assert.equal(run.code, 0, run.stderr + (await refused(redis)));
    assert.doesNotMatch(run.stderr, /NOPERM/);
    assert.equal(await refused(redis), "", "nothing refused, not even a swallowed error");
    assert.equal(Number(await redis.cli("XLEN", "email_ingestion_stream")), 3);
  });

  await t.step("ingest work --drain as ingest-worker", async () => {
    const run = await runIngest(["work", "--drain", "--sink", `file:${out}`], {
      env: worker,
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(run.code, 0, run.stderr + (await refused(redis)));
    assert.doesNotMatch(run.stderr, /NOPERM/);
    const written = (await Deno.readTextFile(out)).trim().split("\n");
    assert.equal(written.length, 3);
    assert.equal(await refused(redis), "", "nothing refused, not even a swallowed error");
  });

  await t.step("ingest metrics serve as ingest-exporter, one scrape", async () => {
    const { body } = await scrapeOnce(exporter);
    const log = await refused(redis);
    assert.match(body, /^email_ingestion_redis_up(\{[^}]*\})? 1$/m, log);
    assert.match(body, /^email_ingestion_stream_depth\{[^}]*\} 3$/m, log);
    assert.equal(log, "", "nothing refused, not even a swallowed error");
  });

  await t.step(
    "without XACK, ZADD or XREADGROUP, `work --drain` stops with REDIS_NOPERM naming the command and its grant",
    async () => {
      const again = await Deno.makeTempFile({ suffix: ".jsonl" });
      const work = (...flags: string[]) =>
        runIngest(["work", "--drain", "--sink", `file:${again}`, ...flags], {
          env: worker,
          signal: AbortSignal.timeout(20_000),
        });
      const settle = "the settle of a handled entry";
      const cases = [
        ["-xack", "xack", 101, settle],
        ["+xack -zadd", "zadd", 102, settle],
        ["+zadd -xreadgroup", "xreadgroup", 103, "the worker's command"],
      ] as const;
      for (const [acl, missing, uid, refused] of cases) {
        await redis.cli(
          "XADD",
          "email_ingestion_stream",
          "*",
          ...emailEntryFields(emailPayload(uid)),
        );
        await redis.cli("ACL", "SETUSER", "ingest-worker", ...acl.split(" "));
        const started = Date.now();
        const run = await work("--consumer", `without-${missing}`);
        assert.equal(run.code, 1, run.stderr);
        assert.ok(Date.now() - started < 15_000, "it stops instead of retrying until the timeout");
        assert.ok(
          run.stderr.includes(`error [REDIS_NOPERM]: Redis refused ${refused}`),
          run.stderr,
        );
        assert.ok(run.stderr.includes(`may not run the '${missing}' command`), run.stderr);
        assert.ok(
          run.stderr.includes(`redis-cli -u "$REDIS_URL" ACL SETUSER ingest-worker '+${missing}'`),
          run.stderr,
        );
        assert.doesNotMatch(run.stderr, /could not settle entry/);
      }
      // Granted again, a worker takes both stalled entries over (at least once) and drains.
      await redis.cli("ACL", "SETUSER", "ingest-worker", "+xreadgroup");
      const run = await work("--consumer", "granted", "--visibility-timeout", "0.5");
      assert.equal(run.code, 0, run.stderr);
      const keys = (await Deno.readTextFile(again)).trim().split("\n").map((l) =>
        JSON.parse(l).idempotency_key
      );
      assert.deepEqual([...new Set(keys)].sort(), [
        "worker@example.test:INBOX:7:101",
        "worker@example.test:INBOX:7:102",
        "worker@example.test:INBOX:7:103",
      ]);
      const pending = await redis.cli("XPENDING", "email_ingestion_stream", "email_workers");
      assert.equal(pending.split("\n")[0], "0");
      await Deno.remove(again);
      // The refusals above were the point of this step; later steps check for none.
      await redis.cli("ACL", "LOG", "RESET");
    },
  );

  await t.step(
    "ingest produce --once --events new,updated,deleted as ingest-producer",
    async () => {
      const events = { ...producer, EVENTS: "new,updated,deleted" };
      const before = Number(await redis.cli("XLEN", "email_ingestion_stream"));
      assert.equal((await runIngest(["produce", "--once"], { env: events })).code, 0);
      const client = await dovecot.client(TEST_USER);
      try {
        await client.mailboxOpen("INBOX");
        await client.messageFlagsAdd("1", ["\\Seen"], { uid: true });
      } finally {
        await client.logout();
      }
      const run = await runIngest(["produce", "--once"], { env: events });
      assert.equal(run.code, 0, run.stderr + (await refused(redis)));
      assert.equal(await refused(redis), "", "nothing refused, not even a swallowed error");
      assert.equal(Number(await redis.cli("XLEN", "email_ingestion_stream")), before + 1);
    },
  );

  await t.step(
    "without one permission (XADD for the producer) the run fails with NOPERM",
    async () => {
      await dovecot.append(TEST_USER, "INBOX", await realisticMessage(3));
      await redis.cli("ACL", "SETUSER", "ingest-producer", "-xadd");
      const before = await redis.cli("XLEN", "email_ingestion_stream");
      const run = await runIngest(["produce", "--once"], { env: producer });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /NOPERM/);
      assert.equal(await redis.cli("XLEN", "email_ingestion_stream"), before);
    },
  );
  await Deno.remove(out);
});
