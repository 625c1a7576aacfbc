import assert from "node:assert/strict";
import { processedSetKey } from "../src/redis/keys.ts";
import { spawnIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";
import { addEmails, client, freshStream, workerEnv } from "./worker_fixtures.ts";

// `ingest … | head` closes the pipe once it has its lines; every later write
// fails with EPIPE. Each run here ends quietly with exit code 0.

/** Runs `ingest <args>`, reads `lines` lines of stdout, then closes the pipe (as `head` does). */
async function pipeToHead(
  args: string[],
  lines: number,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; read: string[] }> {
  const child = spawnIngest(args, { env });
  const stderr = new Response(child.stderr).text();
  const read: string[] = [];
  if (lines === 0) {
    await child.stdout.cancel(); // `| true`: gone before the first write
  } else {
    let buffer = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (read.length < lines) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      read.push(...parts);
    }
    await reader.cancel();
  }
  // Without a quiet stop a worker would retry the broken pipe for ever: fail instead of hanging.
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const status = await child.status;
  clearTimeout(timer);
  assert.equal(status.signal, null, `ingest ${args.join(" ")} did not stop within 30 s`);
  return { code: status.code, stderr: await stderr, read: read.slice(0, lines) };
}

function assertQuiet(result: { code: number; stderr: string }): void {
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /Broken ?pipe|EPIPE|os error 32/i, result.stderr);
}

Deno.test("commands that print end quietly when stdout's reader is gone", async (t) => {
  for (const args of [["dlq", "help", "replay"], ["completions", "bash"], ["--help"]]) {
    await t.step(`ingest ${args.join(" ")} | true`, async () => {
      assertQuiet(await pipeToHead(args, 0));
    });
  }
});

Deno.test("ingest produce --dry-run --once | head: exit 0, no retries of the broken pipe", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  for (let i = 0; i < 300; i++) {
    await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  }
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, logLevel: "info" }),
  };
  const result = await pipeToHead(["produce", "--dry-run", "--once"], 10, env);
  assertQuiet(result);
  assert.equal(result.read.length, 10);
  assert.equal(JSON.parse(result.read[0]!).uid, 1);
  assert.doesNotMatch(result.stderr, /"level":"(warn|error)"/, result.stderr);
});

Deno.test("ingest work --sink stdout | true: exit 0 and nothing counted as delivered", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("pipe-work");
    await addEmails(redis, stream, [1, 2, 3]);
    const result = await pipeToHead(["work", "--sink", "stdout"], 0, workerEnv(server.url, stream));
    assertQuiet(result);
    assert.equal(
      await redis.zcard(processedSetKey(stream, "email_workers")),
      0,
      "no entry is recorded as handed to the sink",
    );
    assert.equal(await redis.xlen(`${stream}:dlq`), 0, "nothing was dead-lettered");
  } finally {
    redis.disconnect();
  }
});
