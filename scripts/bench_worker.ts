/**
 * Worker throughput on a private redis-server (never the Redis on 6379): the
 * same N realistic-sized email entries go to three fresh streams, read by
 *
 * 1. a bare XREADGROUP (COUNT 500) / XACK loop: the limit any worker has here;
 * 2. the worker core with a no-op sink;
 * 3. the worker core with the file sink (durable, fdatasync'd, group-committed lines);
 * 4. a batch floor: the work the file-sink worker cannot skip, done one read
 *    batch (`--concurrency` entries) at a time with no per-entry machinery and
 *    no overlap: decode and check each payload, one processed-record ZMSCORE, the
 *    lines to the file sink (one write and one fdatasync), one record + XACK
 *    script. What it costs above the bare loop is the work; what the worker
 *    costs above it is the worker's design.
 *
 * Each worker run still does its idempotency check and processed-record + XACK
 * script per entry. Prints entries/s of each as the median of `--runs`
 * interleaved rounds, and the worker's share of the bare loop's as the median
 * of each round's share (a round's runs follow one another, so a slow spell of
 * a shared machine falls on both: the share swings less than the rates), with the CPU
 * each spent per entry: this process's (user + sys) and the redis-server's
 * (INFO cpu), and how this process's splits over its threads (from
 * /proc/self/task on Linux): the main (JavaScript) thread, V8's helper
 * threads (garbage collection) and the runtime's I/O threads (the file
 * sink's writes and fdatasyncs run there, so their kernel time is the
 * durable append's cost on this machine's disk and memory; compare
 * `scripts/bench_disk.ts`). On a shared machine the wall figures swing
 * with the load; the CPU figures much less. "CPU bound" is the most entries/s
 * that CPU per entry (this process's + Redis') allows on the machine's cores
 * if both kept all of them busy all the time, and its share of the bare loop:
 * when it is below 50 %, no overlap or batching can reach the target without
 * cutting CPU. The last line gives the share of the machine's CPU time the
 * hypervisor took for other guests during the runs (steal, from /proc/stat).
 *
 *   deno run -A scripts/bench_worker.ts [--entries 20000] [--concurrency 64] [--runs 3]
 *     [--read-ahead N]   (entries read ahead of the sink calls, WORKER_READ_AHEAD; default
 *                         here: --concurrency; 0 is `ingest work`'s default)
 *     [--only null,file,floor]  (the runs besides the bare loop, which always runs; default all)
 *     [--v8-flags="FLAG ..."]   (default: the V8 flags `ingest` runs with, scripts/run_flags.ts;
 *                                "" for V8's defaults)
 *
 * The worker core runs in this script's process, so the script starts itself
 * again as a child with those V8 flags: the young generation `ingest work`
 * has. (With V8's defaults, a larger one, the file-sink worker spent 3.7–4.4
 * µs less CPU an entry in 3 of 4 pairs on 2026-12-03, the same in the fourth:
 * a run without the flags overstates what the installed `ingest` does.)
 *
 * @module
 */

import process from "node:process";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { entryFields } from "../src/redis/reply.ts";
import { silentLogger } from "../src/log/logger.ts";
import { createFileSink } from "../src/sinks/file_sink.ts";
import type { Sink } from "../src/sinks/sink.ts";
import {
  decodeEntry,
  emailEntryFields,
  type EmailPayload,
  SCHEMA_VERSION,
} from "../src/stream/entry.ts";
import { groupKeys } from "../src/worker/group_keys.ts";
import { acknowledgeProcessedMany, processedRecordsExist } from "../src/worker/settle.ts";
import { runWorker } from "../src/worker/worker.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { V8_FLAGS, v8FlagsArguments } from "./run_flags.ts";
import { scriptOptions } from "./script_options.ts";
import { cpuTicks, median, stealLine } from "./bench_stats.ts";

const values = scriptOptions(import.meta.filename!, {
  entries: { type: "string", default: "20000" },
  concurrency: { type: "string", default: "64" },
  runs: { type: "string", default: "3" },
  "read-ahead": { type: "string" },
  only: { type: "string", default: "null,file,floor" },
  "v8-flags": { type: "string", default: V8_FLAGS.join(" ") },
});
const RUN_NAMES = ["null", "file", "floor"] as const;
const only = new Set(values.only.split(",").map((name) => name.trim()));
const unknown = [...only].filter((name) => !(RUN_NAMES as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`--only takes ${RUN_NAMES.join(", ")}: current value has ${unknown.join(", ")}`);
  Deno.exit(2);
}
/** Set in the child this script starts itself as, with the V8 flags. */
const CHILD = "INGEST_BENCH_WORKER_CHILD";
if (Deno.env.get(CHILD) === undefined) {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...v8FlagsArguments(values["v8-flags"]),
      import.meta.filename!,
      ...Deno.args,
    ],
    env: { [CHILD]: "1" },
  }).spawn().status;
  Deno.exit(code);
}
const entries = Number(values.entries);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const readAhead = Number(values["read-ahead"] ?? concurrency);
/** Cores this process and the redis-server share. */
const CORES = navigator.hardwareConcurrency;

function payload(uid: number): EmailPayload {
  return {
    schema_version: SCHEMA_VERSION,
    account: "bench@example.test",
    mailbox: "INBOX",
    uid,
    uidvalidity: 1,
    message_id: `<bench-${uid}@example.test>`,
    from: "sender@example.test",
    to: ["bench@example.test"],
    cc: [],
    reply_to: [],
    subject: `Benchmark message ${uid}`,
    date: new Date().toISOString(),
    internal_date: new Date().toISOString(),
    in_reply_to: null,
    references: [],
    body_text: "x".repeat(2000),
    body_html_preview: "<p>" + "y".repeat(490) + "</p>",
    size: 15_000,
    flags: [],
    headers: { "Content-Type": "text/plain; charset=utf-8" },
    attachments: [],
    gmail: null,
    fetched_at: new Date().toISOString(),
  };
}

await using server = await startRedis();
const redis = new Redis(server.url);
const blocking = new Redis(server.url);
const dir = await Deno.makeTempDir({ prefix: "ingest-bench-" });
let streams = 0;

/** Wall seconds and CPU µs per entry (this process, its threads, redis-server) of one run. */
interface Run {
  seconds: number;
  clientUs: number;
  /** Of `clientUs`, what each kind of thread spent; NaN where /proc is not there. */
  threadsUs: ThreadsCpu;
  redisUs: number;
}

/** CPU of this process's threads by kind (ms, or µs per entry). */
interface ThreadsCpu {
  /** The JavaScript thread. */
  main: number;
  /** V8's helper threads: garbage collection, compilation. */
  v8: number;
  /** Every other thread: the runtime's I/O pool (file writes and syncs). */
  io: number;
}

/**
 * CPU ms (user + sys) of this process's threads so far, by kind, from
 * /proc/self/task (Linux; clock ticks of 10 ms); NaN elsewhere.
 */
function threadsCpuMs(): ThreadsCpu {
  const sums: ThreadsCpu = { main: 0, v8: 0, io: 0 };
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      let stat: string;
      try {
        stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
      } catch {
        continue; // the thread ended meanwhile
      }
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const kind = task.name === String(Deno.pid) ? "main" : name.startsWith("V8 ") ? "v8" : "io";
      sums[kind] += (Number(fields[11]) + Number(fields[12])) * 10;
    }
    return sums;
  } catch {
    return { main: NaN, v8: NaN, io: NaN };
  }
}

/** redis-server's CPU so far (user + sys), µs. */
async function redisCpuUs(): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))?.[1] ?? 0);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1e6;
}

/** Runs `body` (which returns its wall seconds) and measures the CPU it took. */
async function measured(body: () => Promise<number>): Promise<Run> {
  const redisBefore = await redisCpuUs();
  const before = process.cpuUsage();
  const threadsBefore = threadsCpuMs();
  const seconds = await body();
  const threadsAfter = threadsCpuMs();
  const cpu = process.cpuUsage(before);
  const redisUs = await redisCpuUs() - redisBefore;
  return {
    seconds,
    clientUs: (cpu.user + cpu.system) / entries,
    threadsUs: {
      main: (threadsAfter.main - threadsBefore.main) * 1000 / entries,
      v8: (threadsAfter.v8 - threadsBefore.v8) * 1000 / entries,
      io: (threadsAfter.io - threadsBefore.io) * 1000 / entries,
    },
    redisUs: redisUs / entries,
  };
}

/** A fresh stream holding the N entries; returns its name. */
async function fill(): Promise<string> {
  const stream = `bench:stream:${++streams}`;
  for (let start = 1; start <= entries; start += 1000) {
    const pipeline = redis.pipeline();
    for (let uid = start; uid < start + 1000 && uid <= entries; uid++) {
      pipeline.xadd(stream, "*", ...emailEntryFields(payload(uid)));
    }
    await pipeline.exec();
  }
  return stream;
}

/** Up to `count` new entries of `stream` for consumer `c` of `group`: `[id, fields]` rows. */
async function readNew(
  stream: string,
  group: string,
  count: number,
): Promise<[string, string[]][]> {
  const reply = await redis.xreadgroup(
    "GROUP",
    group,
    "c",
    "COUNT",
    count,
    "STREAMS",
    stream,
    ">",
  ) as [string, [string, string[]][]][] | null;
  return reply?.[0]?.[1] ?? [];
}

/** The limit: read and acknowledge every entry, doing nothing else. Returns seconds. */
async function bareLoop(stream: string): Promise<number> {
  await redis.xgroup("CREATE", stream, "bare", "0");
  const started = performance.now();
  let seen = 0;
  while (seen < entries) {
    const rows = await readNew(stream, "bare", 500);
    if (rows.length === 0) throw new Error(`bare loop saw ${seen} of ${entries} entries`);
    await redis.xack(stream, "bare", ...rows.map(([id]) => id));
    seen += rows.length;
  }
  return (performance.now() - started) / 1000;
}

/** The batch floor (see the module documentation). Returns seconds. */
async function batchFloor(stream: string, checks: (() => Promise<void>)[]): Promise<number> {
  await redis.xgroup("CREATE", stream, "floor", "0");
  const keys = groupKeys(stream, "floor", `${stream}:dlq`);
  // The same record expiry as the worker runs' (the configuration's default).
  const { processedTtlSeconds } = loadConfig({ env: { REDIS_URL: server.url } }).worker;
  const file = `${dir}/${stream.replaceAll(":", "_")}.jsonl`;
  const sink = await createFileSink(file);
  const signal = new AbortController().signal;
  const started = performance.now();
  for (let seen = 0; seen < entries;) {
    const rows = await readNew(stream, "floor", concurrency);
    if (rows.length === 0) throw new Error(`batch floor saw ${seen} of ${entries} entries`);
    const batch = rows.map(([id, fields]) => {
      const flat = entryFields(fields);
      return { id, decoded: decodeEntry(flat), payloadJson: flat.payload };
    });
    const done = await processedRecordsExist(
      redis,
      keys,
      batch.map((e) => e.decoded.idempotencyKey),
      Date.now(),
    );
    if (done.some(Boolean)) throw new Error("batch floor: an entry was already processed");
    await Promise.all(
      batch.map(({ id, decoded, payloadJson }) =>
        sink.handle({ id, ...decoded, payloadJson, attempt: 1, signal })
      ),
    );
    const expiresAtMs = Date.now() + processedTtlSeconds * 1000;
    await acknowledgeProcessedMany(
      redis,
      keys,
      batch.map(({ id, decoded }) => ({ id, idempotencyKey: decoded.idempotencyKey, expiresAtMs })),
    );
    seen += rows.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await sink.close();
  checks.push(async () => {
    const lines = (await Deno.readTextFile(file)).split("\n").length - 1;
    if (lines !== entries) throw new Error(`batch floor: ${lines} lines, expected ${entries}`);
  });
  return seconds;
}

/**
 * The worker core in drain mode with the null or the file sink. Returns
 * seconds; `check()` afterwards confirms every entry reached the sink (kept
 * out of the measured CPU: reading the file back is not the worker's work).
 */
async function worker(
  stream: string,
  kind: "null" | "file",
  checks: (() => Promise<void>)[],
): Promise<number> {
  const config = loadConfig({ env: { REDIS_URL: server.url, REDIS_STREAM_NAME: stream } });
  const file = `${dir}/${stream.replaceAll(":", "_")}.jsonl`;
  const sink: Sink = kind === "null"
    ? { kind: "null", handle: () => Promise.resolve(), close: () => Promise.resolve() }
    : await createFileSink(file);
  const started = performance.now();
  const summary = await runWorker({
    redis,
    blockingRedis: blocking,
    config,
    sink,
    consumer: "bench",
    concurrency,
    readAhead,
    drain: true,
    logger: silentLogger,
  });
  const seconds = (performance.now() - started) / 1000;
  await sink.close();
  checks.push(async () => {
    const lines = kind === "null"
      ? entries
      : (await Deno.readTextFile(file)).split("\n").length - 1;
    if (summary.processed !== entries || lines !== entries) {
      throw new Error(`expected ${entries} processed, got ${summary.processed} (${lines} lines)`);
    }
  });
  return seconds;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(0).padStart(3)}%`;
}

try {
  const results = {
    bare: [] as Run[],
    null: [] as Run[],
    file: [] as Run[],
    floor: [] as Run[],
  };
  const ticksBefore = await cpuTicks();
  for (let r = 0; r < runs; r++) {
    let stream = await fill();
    results.bare.push(await measured(() => bareLoop(stream)));
    const checks: (() => Promise<void>)[] = [];
    for (const name of RUN_NAMES) {
      if (!only.has(name)) continue;
      stream = await fill();
      results[name].push(
        await measured(() =>
          name === "floor" ? batchFloor(stream, checks) : worker(stream, name, checks)
        ),
      );
    }
    for (const check of checks) await check();
    await redis.flushall();
  }
  const ticksAfter = await cpuTicks();
  const rate = (list: Run[]) => entries / median(list.map((run) => run.seconds));
  /** The median over rounds of `perSecond(the round's run)` over the same round's bare-loop rate. */
  const shareOfBare = (list: Run[], perSecond: (run: Run) => number) =>
    median(list.map((run, r) => perSecond(run) * results.bare[r]!.seconds / entries));
  console.log(
    `${entries} entries, worker concurrency ${concurrency}, read-ahead ${readAhead}, ` +
      `median of ${runs} runs, V8 flags: ${values["v8-flags"].trim() || "(V8 defaults)"}`,
  );
  for (const [name, list] of Object.entries(results)) {
    if (list.length === 0) continue;
    const label = name === "bare"
      ? "bare XREADGROUP/XACK loop"
      : name === "floor"
      ? "batch floor, file sink"
      : `worker, ${name} sink`;
    const cpu = (pick: (run: Run) => number) => median(list.map(pick)).toFixed(1).padStart(5);
    // What the machine's cores could give at this CPU per entry if this process and Redis
    // kept every one of them busy all the time: a bound no overlap can beat.
    const cpuBoundOf = (run: Run) => CORES * 1e6 / (run.clientUs + run.redisUs);
    const cpuBound = median(list.map(cpuBoundOf));
    console.log(
      `${label.padEnd(28)} ${String(Math.round(rate(list))).padStart(7)} entries/s  ` +
        `${percent(shareOfBare(list, (run) => entries / run.seconds))} of the bare loop  ` +
        `CPU/entry: ${cpu((run) => run.clientUs)} µs here (main ${
          cpu((run) => run.threadsUs.main)
        }, V8 ${cpu((run) => run.threadsUs.v8)}, I/O ${cpu((run) => run.threadsUs.io)}), ${
          cpu((run) => run.redisUs)
        } µs redis  ` +
        `CPU bound on ${CORES} cores: ${String(Math.round(cpuBound)).padStart(7)}/s ` +
        `(${percent(shareOfBare(list, cpuBoundOf))})  ` +
        `(runs: ${list.map((run) => run.seconds.toFixed(2)).join(" ")} s)`,
    );
  }
  console.log(stealLine(ticksBefore, ticksAfter));
} finally {
  redis.disconnect();
  blocking.disconnect();
  await Deno.remove(dir, { recursive: true });
}
