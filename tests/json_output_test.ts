/**
 * Every ops command's `--json` output, as it is really printed against the
 * harness's Redis and Dovecot, matches its schema in docs/schemas/ (the
 * schemas themselves: tests/json_schemas_test.ts). `/status` of produce and
 * work is validated in tests/health_test.ts, the auth commands in
 * tests/auth_test.ts, the stream payload in tests/stream_payload_schema_test.ts.
 */

import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

Deno.test("the --json output of every ops command matches its schema", async (t) => {
  await using dovecot = await startDovecot();
  await using redis = await startRedis();
  for (let i = 0; i < 3; i++) await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  const stream = `schemas-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, stream, logLevel: "warn" }),
    WORKER_BACKOFF_BASE_MS: "20",
    WORKER_BACKOFF_CAP_MS: "100",
    DOCTOR_TIMEOUT_SECONDS: "5",
  };
  const ingest = (...args: string[]) => runIngest(args, { env });
  /** Runs `args`, checks the exit code, validates stdout against `schema`; returns the document. */
  const runMatchingSchema = async (schema: string, code: number, ...args: string[]) => {
    const run = await ingest(...args);
    assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
    const document = JSON.parse(run.stdout);
    await assertMatchesSchema(schema, document);
    return document;
  };
  const dir = await Deno.makeTempDir({ prefix: "ingest-schemas-" });
  const handler = `${dir}/reject_two.ts`;
  await Deno.writeTextFile(
    handler,
    `import { PermanentError } from ${JSON.stringify(MOD_URL)};
export function handle(email: { uid: number }): void {
  if (email.uid === 2) throw new PermanentError("uid 2 is refused");
}
`,
  );
  let probeId = "";
  try {
    await t.step("produce and work fill the stream, the cursor and the DLQ", async () => {
      assert.equal((await ingest("produce", "--once")).code, 0);
      assert.equal((await ingest("work", "--drain", "--sink", `module:${handler}`)).code, 3);
      // One entry pending on a consumer, so inspect shows a consumer and an oldest pending entry.
      const cli = (line: string) => redis.cli(...line.split(" "));
      probeId = (await cli(`XADD ${stream} * type email idempotency_key k payload {}`)).trim();
      await cli(`XREADGROUP GROUP email_workers probe COUNT 1 STREAMS ${stream} >`);
    });

    await t.step("state get, list and reset", async () => {
      const got = await runMatchingSchema("state_get", 0, "state", "get", "--json");
      assert.equal(got.cursors[0].last_uid, 3);
      const all = await runMatchingSchema(
        "state_get",
        0,
        "state",
        "get",
        "--account",
        "nobody@x.test",
        "--json",
      );
      assert.equal(all.found, false);
      assert.equal(
        (await runMatchingSchema("state_list", 0, "state", "list", "--json")).cursors.length,
        1,
      );
      const reset = await runMatchingSchema(
        "state_reset",
        0,
        ...["state", "reset", "--mailbox", "INBOX", "--to-uid", "3", "--yes", "--json"],
      );
      assert.equal(reset.previous_last_uid, 3);
      // Above the cursor, so UIDNEXT is read over IMAP and printed (3 messages: UIDNEXT 4).
      const ahead = await runMatchingSchema(
        "state_reset",
        0,
        ...["state", "reset", "--mailbox", "INBOX", "--to-uid", "4", "--yes", "--json"],
      );
      assert.equal(ahead.uid_next, 4);
      const back = await ingest("state", "reset", "--mailbox", "INBOX", "--to-uid", "3", "--yes");
      assert.equal(back.code, 0, back.stderr);
    });

    await t.step("stream inspect, with a tail and a consumer holding an entry", async () => {
      const report = await runMatchingSchema(
        "stream_inspect",
        0,
        "stream",
        "inspect",
        "--tail",
        "2",
        "--json",
      );
      assert.equal(report.groups[0].consumers[0].name, "probe");
      assert.equal(report.groups[0].orphaned, false);
      assert.equal(typeof report.groups[0].idle_ms, "number");
      assert.equal(typeof report.groups[0].oldest_pending_id, "string");
      assert.equal(report.tail.length, 2);
      assert.equal(report.dlq.length, 1);
      const missing = await runMatchingSchema(
        "stream_inspect",
        0,
        ...["stream", "inspect", "--stream", "nothing-here", "--json"],
      );
      assert.equal(missing.exists, false);
    });

    await t.step("stream peek, group list and group delete", async () => {
      const peeked = await runMatchingSchema(
        "stream_peek",
        0,
        ...["stream", "peek", "--from", "-", "--count", "10", "--json"],
      );
      // The 3 emails, then the probe (payload {} is malformed: a problem, no schema).
      assert.deepEqual(peeked.entries.map((e: { type: string }) => e.type), [
        "email",
        "email",
        "email",
        "email",
      ]);
      assert.equal(peeked.entries[3].id, probeId);
      assert.equal(typeof peeked.entries[3].problem, "string");
      for (const entry of peeked.entries.slice(0, 3)) {
        assert.equal(entry.problem, null);
        await assertMatchesSchema("stream_payload.v1", entry.payload);
      }
      const listed = await runMatchingSchema("group_list", 0, "group", "list", "--json");
      assert.deepEqual(listed.groups.map((g: { name: string }) => g.name), ["email_workers"]);
      await redis.cli("XGROUP", "CREATE", stream, "leftover", "0");
      const deleted = await runMatchingSchema(
        "group_delete",
        0,
        ...["group", "delete", "--group", "leftover", "--yes", "--json"],
      );
      assert.equal(deleted.group, "leftover");
      assert.equal(deleted.consumers, 0);
      const after = await runMatchingSchema("group_list", 0, "group", "list", "--json");
      assert.equal(after.groups.length, 1);
    });

    await t.step("dlq list (plain, with fields, filtered), replay and purge", async () => {
      // Settle the probe first, so the drain below does not wait for its visibility timeout
      // (WORKER_VISIBILITY_TIMEOUT_SECONDS) even when an earlier step failed before reaching here.
      await redis.cli("XACK", stream, "email_workers", probeId);
      const listed = await runMatchingSchema("dlq_list", 0, "dlq", "list", "--json");
      assert.deepEqual(listed.entries.map((e: { uid: number }) => e.uid), [2]);
      await runMatchingSchema("dlq_list", 0, "dlq", "list", "--json", "--with-fields");
      const none = await runMatchingSchema(
        "dlq_list",
        0,
        "dlq",
        "list",
        "--reason",
        "poison",
        "--json",
      );
      assert.equal(none.total, 0);
      const id = listed.entries[0].id;
      const dry = await runMatchingSchema(
        "dlq_replay",
        0,
        "dlq",
        "replay",
        "--all",
        "--dry-run",
        "--json",
      );
      assert.equal(dry.replayed[0].new_id, null);
      const partly = await runMatchingSchema(
        "dlq_replay",
        1,
        ...["dlq", "replay", "--id", id, "--id", "1-1", "--json"],
      );
      assert.deepEqual(partly.missing, ["1-1"]);
      assert.equal((await ingest("work", "--drain", "--sink", `module:${handler}`)).code, 3);
      const purged = await runMatchingSchema(
        "dlq_purge",
        0,
        "dlq",
        "purge",
        "--all",
        "--yes",
        "--json",
      );
      assert.equal(purged.purged, 1);
      assert.deepEqual(purged.missing, []);
      const absent = await runMatchingSchema(
        "dlq_purge",
        1,
        ...["dlq", "purge", "--id", "1-1", "--yes", "--json"],
      );
      assert.deepEqual([absent.purged, absent.missing], [0, ["1-1"]]);
    });

    await t.step("doctor", async () => {
      const run = await ingest("doctor", "--json");
      // The harness's Redis is not configured for production (AOF): exit 0 or 1, same shape.
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
      const report = JSON.parse(run.stdout);
      await assertMatchesSchema("doctor", report);
      assert.ok(report.checks.some((c: { status: string }) => c.status === "pass"));
    });

    await t.step("metrics serve: its --json line and its /status", async () => {
      const controller = new AbortController();
      const port = freePort();
      const serving = runIngest(
        ["metrics", "serve", "--port", String(port), "--json"],
        { env: { ...env, ACCOUNT_ALIAS: "alice" }, signal: controller.signal },
      );
      try {
        await waitForPort(port);
        const response = await fetch(`http://127.0.0.1:${port}/status`);
        assert.equal(response.status, 200);
        const status = await response.json();
        await assertMatchesSchema("metrics_serve_status", status);
        assert.equal(status.mailboxes[0].account, "alice");
        assert.equal(status.stream.stream, stream);
      } finally {
        controller.abort();
      }
      const finished = await serving;
      assert.equal(finished.code, 0, finished.stderr);
      await assertMatchesSchema("metrics_serve", JSON.parse(finished.stdout));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
