import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startProducer } from "../src/producer/producer.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { type Dovecot, startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { startRedis } from "./harness/redis_server.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";

const USER = "alice@example.test";

function imapEnv(port: number, redisUrl: string, stream: string): Record<string, string> {
  return pipelineEnv({ imapPort: port, redisUrl, stream, user: USER, logLevel: "info" });
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** APPEND → EXISTS as a plain imapflow client in IDLE sees it: what the server itself adds. */
async function rawIdleLatencies(dovecot: Dovecot, count: number): Promise<number[]> {
  await dovecot.createMailbox(USER, "IdleBaseline");
  const watcher = await dovecot.client(USER);
  const appender = await dovecot.client(USER);
  const latencies: number[] = [];
  try {
    await watcher.mailboxOpen("IdleBaseline", { readOnly: true });
    for (let i = 0; i < count; i++) {
      const heard = new Promise<number>((resolve) =>
        watcher.once("exists", () => resolve(performance.now()))
      );
      watcher.idle().catch(() => {});
      await new Promise((r) => setTimeout(r, 50)); // IDLE is on the wire
      await appender.append("IdleBaseline", await realisticMessage(i));
      const appended = performance.now();
      latencies.push((await heard) - appended);
      await watcher.noop();
    }
  } finally {
    await watcher.logout();
    await appender.logout();
  }
  return latencies;
}

Deno.test("a running producer", async (t) => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const reader = new Redis(server.port, "127.0.0.1");
  // Cursors are per account and mailbox, so every step follows its own mailbox.
  const seed = async (mailbox: string, count: number) => {
    await dovecot.createMailbox(USER, mailbox);
    for (let i = 0; i < count; i++) await dovecot.append(USER, mailbox, await realisticMessage(i));
  };

  try {
    await t.step("delivers new mail through IDLE (APPEND → entry latency printed)", async () => {
      const stream = `live-${crypto.randomUUID()}`;
      for (let i = 0; i < 5; i++) await dovecot.append(USER, "INBOX", await realisticMessage(i));
      const stop = new AbortController();
      const running = runIngest(["produce"], {
        env: imapEnv(dovecot.port, server.url, stream),
        signal: stop.signal,
      });
      try {
        await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 5);
        let lastId = (await redis.xrevrange(stream, "+", "-", "COUNT", 1))[0]![0];
        // A logged-in client of its own, so a login is not part of what is measured.
        const appender = await dovecot.client(USER);
        const fromStart: number[] = [];
        const fromDone: number[] = [];
        try {
          for (let i = 5; i < 13; i++) {
            const raw = await realisticMessage(i);
            const started = performance.now();
            await appender.append("INBOX", raw);
            const appended = performance.now();
            const read = await reader.xread("BLOCK", 10_000, "STREAMS", stream, lastId) as
              | [string, [string, string[]][]][]
              | null;
            assert.ok(read, `message ${i} did not arrive within 10 s`);
            fromStart.push(performance.now() - started);
            fromDone.push(performance.now() - appended);
            lastId = read[0]![1].at(-1)![0];
          }
        } finally {
          await appender.logout();
        }
        const baseline = await rawIdleLatencies(dovecot, 5);
        const series = [
          ["APPEND sent → entry", fromStart],
          ["APPEND done → entry", fromDone],
          ["APPEND done → EXISTS seen by a bare imapflow IDLE (server baseline)", baseline],
        ] as const;
        for (const [label, values] of series) {
          const sorted = [...values].sort((a, b) => a - b);
          const p50 = percentile(sorted, 50).toFixed(1);
          const p99 = percentile(sorted, 99).toFixed(1);
          console.log(
            `IDLE latency ${label}, ${sorted.length} appends: p50 ${p50} ms, p99 ${p99} ms`,
          );
        }
        assert.equal(await redis.xlen(stream), 13);
      } finally {
        stop.abort();
      }
      const result = await running;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /"idle":true/);
      assert.equal(await redis.exists(`producer_lease:${USER}:INBOX`), 0);
    });

    await t.step("polls with --no-idle", async () => {
      const stream = `poll-${crypto.randomUUID()}`;
      await seed("Poll", 25);
      const stop = new AbortController();
      const running = runIngest([
        "produce",
        "--mailbox",
        "Poll",
        "--no-idle",
        "--poll-interval",
        "1",
      ], {
        env: imapEnv(dovecot.port, server.url, stream),
        signal: stop.signal,
      });
      try {
        await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 25);
        await dovecot.append(USER, "Poll", await realisticMessage(25));
        await waitFor("the polled message", async () => (await redis.xlen(stream)) === 26);
      } finally {
        stop.abort();
      }
      const result = await running;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /"idle":false/);
    });

    await t.step("pauses while the backlog is above the limit and resumes after acks", async () => {
      const stream = `backlog-${crypto.randomUUID()}`;
      await seed("Backlog", 26);
      const config = loadConfig({
        env: {
          ...imapEnv(dovecot.port, server.url, stream),
          IMAP_MAILBOX: "Backlog",
          STREAM_BACKLOG_LIMIT: "10",
          BATCH_SIZE: "5",
        },
      });
      const stop = new AbortController();
      const paused: boolean[] = [];
      const producer = startProducer({
        config,
        account: USER,
        credentials: passwordCredentials(USER, "secret"),
        redis,
        logger: silentLogger,
        signal: stop.signal,
        observer: { backlogPaused: (_ref, value) => paused.push(value) },
      });
      try {
        await waitFor("the pause", () => producer.status().mailboxes[0]!.backlogPaused);
        // The next batch is fetched while one commits, so the pause lands within two batches.
        await new Promise((r) => setTimeout(r, 300));
        const length = await redis.xlen(stream);
        assert.ok(length > 10 && length <= 20, `stream holds ${length}`);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await redis.xlen(stream), length, "the producer went on while paused");
        assert.equal(producer.ready().ready, true);
        // A worker catches up: everything read and acknowledged.
        const read = await redis.xreadgroup(
          "GROUP",
          "email_workers",
          "w",
          "STREAMS",
          stream,
          ">",
        ) as [string, [string, string[]][]][];
        await redis.xack(stream, "email_workers", ...read[0]![1].map(([id]) => id));
        await waitFor("the rest", async () => (await redis.xlen(stream)) === 26);
        assert.deepEqual(paused.slice(0, 2), [true, false]);
        // The entry is visible a moment before the commit's reply reaches the producer.
        await waitFor(
          "the cursor",
          () => producer.status().mailboxes[0]!.cursor?.lastUid === 26,
        );
        assert.equal(producer.status().mailboxes[0]!.leaseHeld, true);
      } finally {
        stop.abort();
      }
      assert.deepEqual(await producer.done, {
        ok: true,
        outcomes: { Backlog: "stopped" },
        problems: {},
      });
    });

    await t.step("reconnects after the IMAP server restarts and carries on", async () => {
      const stream = `restart-${crypto.randomUUID()}`;
      await seed("Restart", 5);
      const stop = new AbortController();
      const states: string[] = [];
      const producer = startProducer({
        config: loadConfig({
          env: { ...imapEnv(dovecot.port, server.url, stream), IMAP_MAILBOX: "Restart" },
        }),
        account: USER,
        credentials: passwordCredentials(USER, "secret"),
        redis,
        logger: silentLogger,
        signal: stop.signal,
        retry: { baseMs: 200, capMs: 1_000 },
        observer: { connectionState: (_ref, state) => states.push(state) },
      });
      try {
        await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 5);
        await waitFor("IDLE", () => producer.status().mailboxes[0]!.state === "idle");
        await dovecot.stop();
        await waitFor("the disconnect", () => producer.status().mailboxes[0]!.lastError !== null);
        await dovecot.start();
        await waitFor("the reconnect", () => producer.status().mailboxes[0]!.state === "idle");
        await dovecot.append(USER, "Restart", await realisticMessage(5));
        await waitFor("mail after the restart", async () => (await redis.xlen(stream)) === 6);
        assert.ok(states.includes("disconnected"));
      } finally {
        stop.abort();
      }
      assert.equal((await producer.done).ok, true);
    });

    await t.step("SIGTERM stops a producer process cleanly with exit code 0", async () => {
      const stream = `term-${crypto.randomUUID()}`;
      await seed("Term", 26);
      const child = spawnIngest(["produce", "--mailbox", "Term"], {
        env: imapEnv(dovecot.port, server.url, stream),
      });
      const output = child.output();
      await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 26, 30_000);
      await waitFor(
        "the lease",
        async () => (await redis.exists(`producer_lease:${USER}:Term`)) === 1,
      );
      const started = performance.now();
      child.kill("SIGTERM");
      const result = await output;
      const seconds = (performance.now() - started) / 1000;
      console.log(`producer exited ${seconds.toFixed(2)} s after SIGTERM`);
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      assert.equal(await redis.exists(`producer_lease:${USER}:Term`), 0);
    });
  } finally {
    redis.disconnect();
    reader.disconnect();
  }
});
