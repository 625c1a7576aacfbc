/**
 * Memory of a long initial sync: runs the producer in this process on a
 * private Dovecot and Redis with N realistic messages and, every
 * `--every` messages, collects garbage and prints RSS and the V8 heap. A
 * flat producer keeps `heap used` (after GC) flat; the slope over the second
 * half of the run is printed in MB per 1,000 messages.
 *
 *   deno run -A --v8-flags=--expose-gc scripts/bench_memory.ts [--messages 30000] [--every 2000]
 *   deno run -A scripts/bench_memory.ts --cli [--messages 30000] [--every 2000]
 *
 * `--dry-run` (in-process only) builds every payload but writes nothing to
 * Redis, which tells the IMAP side's memory from the Redis side's.
 *
 * With `--cli`, `ingest produce --once` runs as a child process instead and
 * its RSS (VmRSS from /proc) is sampled against the stream's length, as an
 * operator would see it (no forced GC, no heap figures); `--build bundle`
 * (default) runs the bundle of `cli/main.ts` that `ingest` is installed on PATH
 * from (scripts/bundle.ts), `--build source` runs `cli/main.ts`.
 * `--child-v8-flags="--max-semi-space-size=8 ..."` (with `=`: the value starts
 * with a dash) runs that child with other V8 flags than the
 * `ingest` task's (`--child-v8-flags ""` runs it with V8's defaults), to
 * compare settings; the child's environment is this process's (so
 * `MALLOC_*` variables reach it). `--bare` then downloads the same mailbox
 * with a bare imapflow client (scripts/_bare_imap_fetch.ts, same V8 flags)
 * and samples its RSS the same way: the part of the growth that is not ours.
 *
 * @module
 */

import { getHeapSpaceStatistics } from "node:v8";
import { bundle } from "./bundle.ts";
import { V8_FLAGS, v8FlagsArguments } from "./run_flags.ts";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startProducer } from "../src/producer/producer.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "30000" },
  every: { type: "string", default: "2000" },
  cli: { type: "boolean", default: false },
  "dry-run": { type: "boolean", default: false },
  build: { type: "string", default: "bundle" },
  "child-v8-flags": { type: "string", default: V8_FLAGS.join(" ") },
  bare: { type: "boolean", default: false },
  spaces: { type: "boolean", default: false },
});
const COUNT = Number(values.messages);
const CLI = values.cli;
/** Payloads are built and dropped: no Redis writes (tells IMAP-side memory from Redis-side). */
const DRY_RUN = values["dry-run"];
const BUILD = values.build;
if (BUILD !== "bundle" && BUILD !== "source") {
  throw new Error(`--build: expected bundle or source, got ${BUILD}`);
}
/** The V8 flags `ingest` runs with, unless `--child-v8-flags` says otherwise. */
const CHILD_V8_FLAGS = values["child-v8-flags"];
const EVERY = Number(values.every);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.error("note: run with --v8-flags=--expose-gc for heap figures after GC");

async function* mailbox(count: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield await realisticMessage(i);
}

interface Sample {
  done: number;
  rssMb: number;
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

function sample(done: number): Sample {
  gc?.();
  const usage = Deno.memoryUsage();
  return {
    done,
    rssMb: mb(usage.rss),
    heapMb: mb(usage.heapUsed),
    heapTotalMb: mb(usage.heapTotal),
    externalMb: mb(usage.external),
  };
}

/** Least-squares slope of `y` over `done`, per 1,000 messages. */
function slope(samples: readonly Sample[], y: (s: Sample) => number): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.done, 0) / n;
  const my = samples.reduce((a, s) => a + y(s), 0) / n;
  const num = samples.reduce((a, s) => a + (s.done - mx) * (y(s) - my), 0);
  const den = samples.reduce((a, s) => a + (s.done - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 1000;
}

await using dovecot = await startDovecot();
await using redisServer = await startRedis();
const redis = new Redis(redisServer.port, "127.0.0.1");
try {
  const seeding = performance.now();
  await dovecot.seedMaildir(TEST_USER, "INBOX", mailbox(COUNT));
  console.error(
    `seeded ${COUNT} messages in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redisServer.url, stream: "mem" }),
    STREAM_BACKLOG_LIMIT: String(COUNT * 10),
    REDIS_MAX_STREAM_LENGTH: String(COUNT * 10),
  };
  if (CLI) {
    await runCli(env, redis);
    if (values.bare) await runBare(dovecot.port);
  } else {
    await runInProcess(env, redis);
  }
} finally {
  redis.disconnect();
}

/** The producer in this process, with forced GCs and heap figures at each sample. */
async function runInProcess(env: Record<string, string>, redis: Redis): Promise<void> {
  const samples: Sample[] = [sample(0)];
  let next = EVERY;
  const started = performance.now();
  const producer = startProducer({
    config: loadConfig({ env }),
    account: TEST_USER,
    credentials: passwordCredentials(TEST_USER, "secret"),
    redis,
    logger: silentLogger,
    signal: new AbortController().signal,
    once: true,
    dryRun: DRY_RUN ? () => {} : undefined,
    observer: {
      progress(_ref, done) {
        if (done >= next) {
          next += EVERY;
          samples.push(sample(done));
        }
      },
    },
  });
  const result = await producer.done;
  const seconds = (performance.now() - started) / 1000;
  samples.push(sample(COUNT));
  if (values.spaces) {
    for (const space of getHeapSpaceStatistics()) {
      console.log(
        `${space.space_name.padEnd(28)} size ${mb(space.space_size).toFixed(1)} MB, used ${
          mb(space.space_used_size).toFixed(1)
        } MB`,
      );
    }
  }
  console.log("messages  rss MB  heap used MB  heap total MB  external MB");
  for (const s of samples) {
    console.log(
      `${String(s.done).padStart(8)}  ${s.rssMb.toFixed(1).padStart(6)}  ${
        s.heapMb.toFixed(1).padStart(12)
      }  ${s.heapTotalMb.toFixed(1).padStart(13)}  ${s.externalMb.toFixed(1).padStart(11)}`,
    );
  }
  const secondHalf = samples.filter((s) => s.done >= COUNT / 2);
  console.log(
    `${await redis.xlen("mem")} entries in ${seconds.toFixed(1)} s (ok: ${result.ok}); ` +
      `second half slope per 1,000 messages: rss ${
        slope(secondHalf, (s) => s.rssMb).toFixed(2)
      } MB, ` +
      `heap ${slope(secondHalf, (s) => s.heapMb).toFixed(2)} MB`,
  );
}

/** A bare imapflow download of the same mailbox as a child: VmRSS against its progress lines. */
async function runBare(port: number): Promise<void> {
  const started = performance.now();
  const script = new URL("./_bare_imap_fetch.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ...childV8Args(), script, String(port), TEST_USER, "secret"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const rows: Array<{ done: number; rssMb: number }> = [];
  let next = 0;
  let peakKb = 0;
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  for await (const text of lines) {
    const done = Number(/done (\d+)\s*$/.exec(text)?.[1] ?? -1);
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0));
      if (done >= next) {
        rows.push({ done, rssMb: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024 });
        next = done + EVERY;
      }
    } catch { /* exited */ }
  }
  const code = (await child.status).code;
  console.log("bare imapflow download of the same mailbox (same V8 flags)");
  console.log("messages  rss MB");
  for (const row of rows) {
    console.log(`${String(row.done).padStart(8)}  ${row.rssMb.toFixed(1).padStart(6)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `exit ${code}; in ${seconds.toFixed(1)} s; peak RSS ${(peakKb / 1024).toFixed(0)} MB`,
  );
}

function childV8Args(): string[] {
  return v8FlagsArguments(CHILD_V8_FLAGS);
}

/** `ingest produce --once` as a child: VmRSS sampled against XLEN. */
async function runCli(env: Record<string, string>, redis: Redis): Promise<void> {
  if (BUILD === "source") {
    console.log("child: cli/main.ts");
    return await sampleCli(new URL("../cli/main.ts", import.meta.url).pathname, env, redis);
  }
  const outdir = await Deno.makeTempDir({ prefix: "ingest-bench-bundle-" });
  try {
    const main = await bundle({ entry: "cli/main.ts", outdir });
    console.log("child: the bundle of cli/main.ts");
    // Not sampled: a fresh bundle's first run compiles it and writes V8's code cache, which
    // costs that one run ≈ 55 MB more RSS (247 instead of 179–198 MB over 30,000 messages).
    await sampleCli(main, env, redis, false);
    await redis.flushall();
    await sampleCli(main, env, redis);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
}

/** Runs `main produce --once` and samples its VmRSS against XLEN. */
async function sampleCli(
  main: string,
  env: Record<string, string>,
  redis: Redis,
  report = true,
): Promise<void> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      ...childV8Args(),
      main,
      "--env-file",
      "/dev/null",
      "produce",
      "--once",
    ],
    env: { LOG_FORMAT: "json", LOG_LEVEL: "info", HEALTH_PORT: "0", ...env },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const rows: Array<{ done: number; rssMb: number }> = [];
  let next = 0;
  let peakKb = 0;
  let cpuTicks = 0;
  const status = child.status;
  let exited = false;
  status.then(() => (exited = true));
  while (!exited) {
    const done = await redis.xlen("mem");
    try {
      const text = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0);
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+) kB/.exec(text)?.[1] ?? 0));
      // utime + stime (fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name).
      const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`).split(") ")[1]!.split(" ");
      cpuTicks = Number(stat[11]) + Number(stat[12]);
      if (done >= next) {
        rows.push({ done, rssMb: rssKb / 1024 });
        next = done + EVERY;
      }
    } catch { /* exited */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const code = (await status).code;
  if (!report) return;
  console.log(`child V8 flags: ${CHILD_V8_FLAGS || "(V8 defaults)"}`);
  console.log("messages  rss MB");
  for (const row of rows) {
    console.log(`${String(row.done).padStart(8)}  ${row.rssMb.toFixed(1).padStart(6)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `exit ${code}; ${await redis.xlen("mem")} entries in ${seconds.toFixed(1)} s ` +
      `(CPU ${(cpuTicks / 100).toFixed(1)} s until the last sample); ` +
      `peak RSS ${(peakKb / 1024).toFixed(0)} MB`,
  );
}
