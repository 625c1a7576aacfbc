/**
 * A producer started on a Redis that is already full (`noeviction` past
 * `maxmemory`), issue 11: `XGROUP CREATE ... MKSTREAM` is refused with OOM
 * even for an existing group, so the group is looked up first; a missing
 * group that cannot be created is an OOM named with its fix — retried in a
 * long run, a prompt exit 1 with `--once`.
 */

import assert from "node:assert/strict";
import { IngestProcess } from "./faults/ingest_process.ts";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { freePort } from "./harness/ports.ts";
import { fillRedis } from "./harness/redis_fill.ts";
import { startRedis } from "./harness/redis_server.ts";
import { readGroupInfo } from "../src/stream/group_info.ts";
import { ensureGroup } from "../src/stream/group.ts";
import { client, waitUntil } from "./worker_fixtures.ts";

const GROUP = "email_workers";
const MESSAGES = 3;

Deno.test("produce --once on a full Redis without the group exits 1 within seconds naming the OOM and its fix", async () => {
  await using server = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const redis = await client(server.url);
  try {
    await fillRedis(redis);
    const started = performance.now();
    // The group is readied before any IMAP connection: no IMAP server is needed.
    const env = pipelineEnv({ imapPort: freePort(), redisUrl: server.url, stream: "full:once" });
    const result = await runIngest(["produce", "--once"], { env });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /REDIS_OOM/);
    assert.match(result.stderr, /out of memory[^\n]*CONFIG SET maxmemory/);
    assert.ok(seconds < 20, `exited after ${seconds.toFixed(1)} s`);
    assert.deepEqual(await readGroupInfo(redis, "full:once"), []);
  } finally {
    redis.disconnect();
  }
});

/** A long-running producer started on a full Redis; resumes once memory is freed. */
async function longRunOnFullRedis(
  groupExists: boolean,
  said: RegExp,
): Promise<void> {
  await using dovecot = await startDovecot();
  await using server = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const redis = await client(server.url);
  const stream = `full:${groupExists ? "existing" : "missing"}`;
  let producer: IngestProcess | undefined;
  try {
    const raw = await Promise.all([...Array(MESSAGES).keys()].map((i) => realisticMessage(i)));
    await dovecot.seedMaildir(TEST_USER, "INBOX", raw);
    if (groupExists) await ensureGroup(redis, stream, GROUP);
    const filled = await fillRedis(redis);
    const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream });
    const running = new IngestProcess(["produce"], env);
    producer = running;
    await waitUntil("the producer names the OOM", () => said.test(running.log), 30_000)
      .catch((error) => {
        throw new Error(`${error.message}; its log:\n${running.log}`);
      });
    assert.match(running.log, /CONFIG SET maxmemory/, "the fix is in the log");
    assert.doesNotMatch(running.log, /redis unavailable/, "not logged as an outage");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(running.exitCode, undefined, `still running on a full Redis:\n${running.log}`);
    assert.equal(await redis.xlen(stream), 0);

    await filled.free();
    await redis.config("SET", "maxmemory", "0");
    await waitUntil("every message is in the stream", async () => {
      return await redis.xlen(stream) >= MESSAGES;
    }, 30_000);
    assert.deepEqual((await readGroupInfo(redis, stream)).map((g) => g.name), [GROUP]);
    assert.equal(await running.stop("SIGTERM"), 0);
    assert.equal(await redis.xlen(stream), MESSAGES, "each message once");
  } finally {
    await producer?.stop("SIGKILL");
    redis.disconnect();
  }
}

Deno.test("a long-running producer starts on a full Redis whose group exists, and commits once memory is freed", async () => {
  await longRunOnFullRedis(true, /"producer started"[\s\S]*out of memory/);
});

Deno.test("a long-running producer on a full Redis without the group logs the OOM with the fix and retries", async () => {
  await longRunOnFullRedis(false, /out of memory: cannot create the consumer group/);
});
