import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { AuthError, ImapError, RedisError } from "../src/errors.ts";
import { decideAfterFailure } from "../src/producer/failure_policy.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { type Dovecot, startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { startRedis } from "./harness/redis_server.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";

const USER = "alice@example.test";

function imapEnv(dovecot: Dovecot, redisUrl: string, stream: string): Record<string, string> {
  return pipelineEnv({ imapPort: dovecot.port, redisUrl, stream, user: USER, logLevel: "info" });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function* realistic(from: number, to: number): AsyncIterable<Uint8Array> {
  for (let i = from; i < to; i++) yield await realisticMessage(i);
}

/** Idempotency keys of the stream's email entries, checked for duplicates. */
async function uniqueKeys(redis: Redis, stream: string): Promise<Set<string>> {
  const rows = await redis.xrange(stream, "-", "+");
  const keys = rows.filter(([, f]) => f[1] === "email").map(([, f]) => f[3]!);
  const unique = new Set(keys);
  assert.equal(unique.size, keys.length, "the stream holds a message twice");
  return unique;
}

function expectedKeys(uidValidity: string | null, count: number, mailbox: string): Set<string> {
  return new Set(
    Array.from({ length: count }, (_, i) => `${USER}:${mailbox}:${uidValidity}:${i + 1}`),
  );
}

/** A child process whose stderr is collected line by line while it runs. */
function watchedProducer(args: string[], env: Record<string, string>) {
  const child = spawnIngest(["produce", ...args], { env });
  const lines: string[] = [];
  const stderr = (async () => {
    let buffer = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  const stdout = child.stdout.cancel();
  return {
    child,
    lines,
    async exit(): Promise<number> {
      const status = await child.status;
      await Promise.all([stderr, stdout]);
      return status.code;
    },
  };
}

Deno.test("a producer killed with SIGKILL mid-sync and restarted publishes each message once", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `kill-${crypto.randomUUID()}`;
  const env = imapEnv(dovecot, server.url, stream);
  try {
    await dovecot.seedMaildir(USER, "INBOX", realistic(0, 400));
    const first = watchedProducer(["--once", "--batch-size", "10", "--lease-ttl", "2"], env);
    await waitFor("a few batches", async () => (await redis.xlen(stream)) >= 60);
    first.child.kill("SIGKILL");
    assert.equal(await first.exit(), 137);
    const killedAt = await redis.xlen(stream);
    assert.ok(killedAt < 400, `the producer finished before the kill (${killedAt})`);
    // The dead producer's lease expires after 2 s; the restarted one then takes over.
    const second = await runIngest(["produce", "--once", "--lease-ttl", "2"], { env });
    assert.equal(second.code, 0, second.stderr);
    const validity = await redis.get(`producer_state:${USER}:INBOX:uidvalidity`);
    assert.deepEqual(await uniqueKeys(redis, stream), expectedKeys(validity, 400, "INBOX"));
    console.log(`killed after ${killedAt} of 400 entries; after restart: 400, no duplicates`);
  } finally {
    redis.disconnect();
  }
});

Deno.test("two producers on one mailbox: one publishes, the standby takes over when it dies", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `pair-${crypto.randomUUID()}`;
  const env = imapEnv(dovecot, server.url, stream);
  const args = ["--lease-ttl", "2"];
  try {
    await dovecot.seedMaildir(USER, "INBOX", realistic(0, 50));
    const active = watchedProducer(args, env);
    await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 50);
    const standby = watchedProducer(args, env);
    try {
      await waitFor("the standby", () => standby.lines.some((l) => l.includes("standing by")));
      for (let i = 50; i < 60; i++) await dovecot.append(USER, "INBOX", await realisticMessage(i));
      await waitFor("the new mail", async () => (await redis.xlen(stream)) === 60);
      assert.ok(!standby.lines.some((l) => l.includes("lease acquired")));

      active.child.kill("SIGKILL");
      const killed = performance.now();
      await active.exit();
      for (let i = 60; i < 70; i++) await dovecot.append(USER, "INBOX", await realisticMessage(i));
      await waitFor("the takeover", async () => (await redis.xlen(stream)) === 70);
      console.log(
        `standby published the next message ${
          ((performance.now() - killed) / 1000).toFixed(2)
        } s after the active producer was killed (lease TTL 2 s)`,
      );
      assert.ok(standby.lines.some((l) => l.includes("lease acquired")));
    } finally {
      standby.child.kill("SIGTERM");
      assert.equal(await standby.exit(), 0);
    }
    const validity = await redis.get(`producer_state:${USER}:INBOX:uidvalidity`);
    assert.deepEqual(await uniqueKeys(redis, stream), expectedKeys(validity, 70, "INBOX"));
  } finally {
    redis.disconnect();
  }
});

Deno.test("a Redis restart in the middle of a sync loses and doubles nothing", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis({
    args: ["--appendonly", "yes", "--appendfsync", "always"],
  });
  const redis = new Redis(server.port, "127.0.0.1", { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const stream = `bounce-${crypto.randomUUID()}`;
  const env = imapEnv(dovecot, server.url, stream);
  try {
    await dovecot.seedMaildir(USER, "INBOX", realistic(0, 300));
    const producer = watchedProducer(["--once", "--batch-size", "10"], env);
    await waitFor("a few batches", async () => (await redis.xlen(stream)) >= 40);
    const beforeOutage = await redis.xlen(stream);
    await server.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await server.start();
    assert.equal(await producer.exit(), 0, producer.lines.join("\n"));
    assert.ok(beforeOutage < 300, "the sync finished before Redis went down");
    // Either ioredis rode the outage out, or the producer backed off and retried the round.
    const retried = producer.lines.filter((l) => l.includes("redis unavailable")).length;
    console.log(
      `Redis down at ${beforeOutage}/300 entries; rounds retried by the producer: ${retried}`,
    );
    const validity = await redis.get(`producer_state:${USER}:INBOX:uidvalidity`);
    assert.deepEqual(await uniqueKeys(redis, stream), expectedKeys(validity, 300, "INBOX"));
    assert.equal(await redis.get(`producer_state:${USER}:INBOX:last_uid`), "300");
  } finally {
    redis.disconnect();
  }
});

Deno.test("Gmail's THROTTLED and OVERQUOTA answers back off long; revoked credentials park", () => {
  const random = () => 0.5;
  const gmailNo = (text: string) =>
    Object.assign(new Error("Command failed"), { responseStatus: "NO", responseText: text });
  const throttled = decideAfterFailure(
    gmailNo("[THROTTLED] Too many commands, please try again later"),
    0,
    undefined,
    random,
  );
  assert.deepEqual(throttled, { action: "retry", delayMs: 22_500, kind: "throttled" });
  const overQuota = decideAfterFailure(
    new ImapError("IMAP_CONNECTION", "wrapped", {
      cause: gmailNo("[OVERQUOTA] Account exceeded command or bandwidth limits"),
    }),
    3,
    undefined,
    random,
  );
  assert.equal(overQuota.action, "retry");
  assert.equal(overQuota.action === "retry" && overQuota.kind, "throttled");
  assert.equal(overQuota.action === "retry" && overQuota.delayMs, 180_000);
  const reset = decideAfterFailure(
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    0,
    undefined,
    random,
  );
  assert.deepEqual(reset, { action: "retry", delayMs: 750, kind: "transient" });
  const redisDown = decideAfterFailure(
    new RedisError("REDIS_UNREACHABLE", "Reached the max retries per request limit"),
    0,
    undefined,
    random,
  );
  assert.deepEqual(redisDown, { action: "retry", delayMs: 750, kind: "transient" });
  const capped = decideAfterFailure(new Error("socket hang up"), 40, undefined, () => 0.999);
  assert.ok(capped.action === "retry" && capped.delayMs <= 60_000);
  const revoked = decideAfterFailure(
    new AuthError("REAUTH_REQUIRED", "token revoked", { reauthRequired: true }),
    0,
  );
  assert.equal(revoked.action, "park");
});
