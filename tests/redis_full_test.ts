import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { freePort } from "./harness/ports.ts";
import { fillRedis } from "./harness/redis_fill.ts";
import { startRedis } from "./harness/redis_server.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";
import { deadLetterFields } from "../src/dlq/dead_letter.ts";
import { emailEntryFields } from "../src/stream/entry.ts";
import { client, emailPayload } from "./worker_fixtures.ts";

interface CheckJson {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

async function memoryCheck(redisUrl: string): Promise<{ code: number; check: CheckJson }> {
  // No IMAP server is needed for this check: the IMAP checks fail on a closed port.
  const result = await runIngest(["doctor", "--json", "--timeout", "3"], {
    env: { REDIS_URL: redisUrl, ...pipelineEnv({ imapPort: freePort() }) },
  });
  const report = JSON.parse(result.stdout) as { checks: CheckJson[] };
  const check = report.checks.find((c) => c.name === "redis.memory");
  assert.ok(check, `redis.memory is reported: ${result.stdout}`);
  return { code: result.code, check };
}

Deno.test("doctor fails on a Redis filled past maxmemory and prints the command that fixes it", async () => {
  await using redis = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const admin = await client(redis.url);
  try {
    await admin.config("SET", "maxmemory", "64mb");
    const roomy = await memoryCheck(redis.url);
    assert.equal(roomy.check.status, "pass", roomy.check.detail);

    const filled = await fillRedis(admin, { headroomBytes: 3 * 1024 * 1024 });
    assert.match(await redis.cli("SET", "probe", "x"), /^OOM/, "Redis really refuses writes");
    const full = await memoryCheck(redis.url);
    assert.equal(full.code, 1);
    assert.equal(full.check.status, "fail");
    assert.match(
      full.check.detail,
      /used of maxmemory .*\((9[5-9]|1\d\d)%\): Redis is out of memory/,
    );
    assert.match(
      full.check.fix ?? "",
      /^redis-cli -u "\$REDIS_URL" CONFIG SET maxmemory \d+mb && redis-cli -u "\$REDIS_URL" CONFIG REWRITE/,
    );

    await filled.free();
    await admin.config("SET", "maxmemory", "64mb");
    assert.equal((await memoryCheck(redis.url)).check.status, "pass");
  } finally {
    admin.disconnect();
  }
});

Deno.test("an ops command on a full Redis names the OOM and its fix, not a stack trace", async () => {
  await using redis = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const admin = await client(redis.url);
  try {
    const stream = "full:stream";
    const fields = emailEntryFields(emailPayload(1));
    await admin.xadd(
      `${stream}:dlq`,
      "*",
      ...deadLetterFields(fields, {
        sourceStream: stream,
        sourceId: "1-0",
        group: "email_workers",
        consumer: "w",
        reason: "max_attempts",
        error: "boom",
        attempts: 5,
        firstFailure: "2026-01-01T00:00:00.000Z",
        lastFailure: "2026-01-01T00:00:00.000Z",
      }),
    );
    const filled = await fillRedis(admin);
    const env = { REDIS_URL: redis.url, REDIS_STREAM_NAME: stream };
    const refused = await runIngest(["dlq", "replay", "--all"], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error \[REDIS_OOM\]: Redis is out of memory/m);
    assert.match(refused.stderr, /CONFIG SET maxmemory/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
    assert.equal(await admin.xlen(stream), 0, "nothing was replayed half-way");

    await filled.free();
    await admin.config("SET", "maxmemory", "0");
    const replayed = await runIngest(["dlq", "replay", "--all"], { env });
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(await admin.xlen(stream), 1);
  } finally {
    admin.disconnect();
  }
});
