/**
 * Speed and memory of `ingest produce --once` against a private Dovecot and
 * Redis, next to a raw imapflow download of the same mailbox
 * (`bench_imap_raw.ts`). Prints, per run and as medians, wall time, user+sys
 * CPU and peak RSS of each, and the ratios produce / raw: each round's, the
 * median over rounds (a round's runs follow one another, in reverse order
 * every other round, so a slow spell of a shared machine falls on both).
 *
 *   deno run -A scripts/bench_produce.ts [--messages 5000] [--runs 3] [--batch-size 50]
 *     [--html-share 0.7] [--paragraphs 3-33] [--words 20-100]
 *     [--attachment-share 0.3] [--attachment-kb 5-100] [--large-share 0.03] [--large-mb 1-4]
 *     [--corpus profile|realistic] [--reference /path/to/other/checkout] [--big-message]
 *     [--build bundle|source]
 *
 * `--corpus profile` (default) generates the mailbox from the options above
 * (their defaults are issue 14's HTML-heavy profile); `--corpus realistic` is
 * the wave-1 mix of tests/harness/mail.ts (`--large-share` of its
 * attachment-kind messages carry 1–4 MB). `--reference` also runs that
 * checkout's `cli/main.ts`, interleaved with this one, to compare builds on a
 * loaded machine. Each command runs as a child under GNU time (`/usr/bin/time`),
 * which reports its CPU and peak RSS (ru_maxrss). Dovecot's own CPU is not counted.
 * The last line gives the share of the machine's CPU time the hypervisor took
 * for other guests during the counted rounds (steal, from /proc/stat).
 * `produce` runs with the V8 flags `ingest` is started with (scripts/run_flags.ts
 * `V8_FLAGS`, the same as the `ingest` task's); `--v8-flags ""` runs it with
 * V8's defaults, `"--v8-flags=--a --b"` with others.
 * `--build bundle` (default) runs what `ingest` is installed on PATH from: each
 * checkout's `cli/main.ts` bundled by `deno bundle` (scripts/bundle.ts); the raw
 * script then runs twice per round, as written and bundled the same way, so the
 * table shows what bundling alone gives a program. `--build source` runs
 * `cli/main.ts` itself, as `deno task ingest` does.
 *
 * @module
 */

import { Redis } from "ioredis";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { largeMessage, realisticMessage } from "../tests/harness/mail.ts";
import { type CorpusProfile, HTML_HEAVY, profileMailbox } from "../tests/harness/mail_profile.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { pipelineEnv } from "../tests/harness/pipeline_env.ts";
import { bundle } from "./bundle.ts";
import { V8_FLAGS, v8FlagsArguments } from "./run_flags.ts";
import { scriptOptions } from "./script_options.ts";
import { cpuTicks, median, stealLine } from "./bench_stats.ts";

const USER = "alice@example.test";
const RAW = new URL("./bench_imap_raw.ts", import.meta.url).pathname;
const HERE = new URL("..", import.meta.url).pathname;

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "5000" },
  runs: { type: "string", default: "3" },
  "batch-size": { type: "string", default: "50" },
  corpus: { type: "string", default: "profile" },
  "html-share": { type: "string", default: String(HTML_HEAVY.htmlShare) },
  paragraphs: { type: "string", default: HTML_HEAVY.paragraphs.join("-") },
  words: { type: "string", default: HTML_HEAVY.words.join("-") },
  "attachment-share": { type: "string", default: String(HTML_HEAVY.attachmentShare) },
  "attachment-kb": { type: "string", default: HTML_HEAVY.attachmentKb.join("-") },
  "large-share": { type: "string", default: String(HTML_HEAVY.largeShare) },
  "large-mb": { type: "string", default: HTML_HEAVY.largeMb.join("-") },
  reference: { type: "string" },
  "big-message": { type: "boolean", default: false },
  "v8-flags": { type: "string", default: V8_FLAGS.join(" ") },
  build: { type: "string", default: "bundle" },
});

function range(text: string, name: string): [number, number] {
  const [min, max = min] = text.split("-").map(Number);
  if (!(min! >= 0) || !(max! >= min!)) throw new Error(`--${name}: expected MIN-MAX, got ${text}`);
  return [min!, max!];
}

if (values.build !== "bundle" && values.build !== "source") {
  throw new Error(`--build: expected bundle or source, got ${values.build}`);
}
const BUNDLED = values.build === "bundle";
const COUNT = Number(values.messages);
const RUNS = Number(values.runs);
const BATCH_SIZE = values["batch-size"];
const PRODUCE_V8 = v8FlagsArguments(values["v8-flags"]);
const PROFILE: CorpusProfile = {
  htmlShare: Number(values["html-share"]),
  paragraphs: range(values.paragraphs, "paragraphs"),
  words: range(values.words, "words"),
  attachmentShare: Number(values["attachment-share"]),
  attachmentKb: range(values["attachment-kb"], "attachment-kb"),
  largeShare: Number(values["large-share"]),
  largeMb: range(values["large-mb"], "large-mb"),
};

/** The wave-1 mix: `--large-share` of all messages are attachment-kind ones with 1–4 MB. */
async function* realisticMailbox(count: number): AsyncIterable<Uint8Array> {
  const bigPerHundred = Math.round(PROFILE.largeShare * 1000);
  for (let i = 0; i < count; i++) {
    if (i % 10 === 8 && Math.floor(i / 10) % 100 < bigPerHundred) {
      const mb = 1 + ((i * 7919) % 3000) / 1000;
      yield await realisticMessage(i, { attachmentBytes: Math.round(mb * 1024 * 1024) });
    } else {
      yield await realisticMessage(i);
    }
  }
}

/** One measured child process. */
interface Run {
  wall: number;
  /** User + sys CPU seconds. */
  cpu: number;
  user: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a command under GNU time; throws with its stderr when it fails. */
async function measure(what: string, args: string[], env: Record<string, string>): Promise<Run> {
  const report = await Deno.makeTempFile({ prefix: "bench-time-" });
  try {
    const output = await new Deno.Command("/usr/bin/time", {
      args: ["-o", report, "-f", "%e %U %S %M", Deno.execPath(), ...args],
      env: { LOG_FORMAT: "json", LOG_LEVEL: "warn", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    if (output.code !== 0) {
      throw new Error(
        `${what} failed (${output.code}): ${decoder.decode(output.stderr).slice(-2000)}`,
      );
    }
    const last = (await Deno.readTextFile(report)).trim().split("\n").at(-1)!;
    const [wall, user, sys, rssKb] = last.split(" ").map(Number);
    return {
      wall: wall!,
      cpu: user! + sys!,
      user: user!,
      peakRssMb: rssKb! / 1024,
      stdout: decoder.decode(output.stdout),
    };
  } finally {
    await Deno.remove(report);
  }
}

await using dovecot = await startDovecot();
const bundles = await Deno.makeTempDir({ prefix: "ingest-bench-bundles-" });
await using redisServer = await startRedis();
const redis = new Redis(redisServer.port, "127.0.0.1");
try {
  let seeded = performance.now();
  const corpus = values.corpus === "realistic"
    ? realisticMailbox(COUNT)
    : profileMailbox(COUNT, PROFILE);
  await dovecot.seedMaildir(USER, "INBOX", corpus);
  if (values["big-message"]) {
    await dovecot.seedMaildir(USER, "Big", [largeMessage(50 * 1024 * 1024)]);
  }
  seeded = (performance.now() - seeded) / 1000;
  const du = new TextDecoder().decode(
    (await new Deno.Command("du", { args: ["-sm", `${dovecot.dir}/mail`] }).output()).stdout,
  ).split("\t")[0];
  const described = values.corpus === "realistic"
    ? `realistic mix, large share ${PROFILE.largeShare}`
    : JSON.stringify(PROFILE);
  console.log(
    `corpus: ${COUNT} messages, ${described}; ${du} MB on disk (seeded in ${seeded.toFixed(0)} s)`,
  );

  const raw = (mailbox: string, program = RAW) =>
    measure("raw fetch", [
      "run",
      "-A",
      "--quiet",
      program,
      "--port",
      String(dovecot.port),
      "--user",
      USER,
      "--password",
      "secret",
      "--mailbox",
      mailbox,
    ], {});
  const produce = async (main: string, mailbox: string, extra: string[] = []) => {
    await redis.flushall();
    const run = await measure(`produce (${main})`, [
      "run",
      "-A",
      "--quiet",
      ...PRODUCE_V8,
      main,
      "--env-file",
      "/dev/null",
      "produce",
      "--once",
      "--batch-size",
      BATCH_SIZE,
      ...extra,
    ], {
      ...pipelineEnv({
        imapPort: dovecot.port,
        redisUrl: redisServer.url,
        stream: "bench",
        user: USER,
      }),
      IMAP_MAILBOX: mailbox,
      STREAM_BACKLOG_LIMIT: String(COUNT * 10),
      REDIS_MAX_STREAM_LENGTH: String(COUNT * 10),
    });
    const entries = await redis.xlen("bench");
    if (entries !== COUNT && mailbox === "INBOX") {
      throw new Error(`produce (${main}) left ${entries} entries, expected ${COUNT}`);
    }
    return run;
  };

  const checkouts: [string, string][] = [["this checkout", HERE.replace(/\/$/, "")]];
  if (values.reference) checkouts.push(["reference", values.reference.replace(/\/$/, "")]);
  // [row name, program]: what runs, bundled or as written.
  const builds: [string, string][] = [];
  const raws: [string, string][] = [["raw", RAW]];
  for (const [name, dir] of checkouts) {
    builds.push([
      name,
      BUNDLED
        ? await bundle({ entry: "cli/main.ts", outdir: `${bundles}/${builds.length}`, cwd: dir })
        : `${dir}/cli/main.ts`,
    ]);
  }
  if (BUNDLED) {
    raws.push([
      "raw, bundled",
      await bundle({ entry: "scripts/bench_imap_raw.ts", outdir: `${bundles}/raw`, cwd: HERE }),
    ]);
  }
  const results = new Map<string, Run[]>(
    [...raws, ...builds].map(([name]) => [name, []] as [string, Run[]]),
  );
  // A round that is not counted: a program's first run compiles it and writes V8's code
  // cache (a fresh bundle's first `produce --once` takes ≈ 0.5 s more CPU and ≈ 55 MB more).
  for (const [, program] of raws) await raw("INBOX", program);
  for (const [, main] of builds) await produce(main, "INBOX");
  const steps = [
    ...raws.map(([name, program]) => [name, () => raw("INBOX", program)] as const),
    ...builds.map(([name, main]) => [name, () => produce(main, "INBOX")] as const),
  ];
  const ticksBefore = await cpuTicks();
  for (let r = 0; r < RUNS; r++) {
    // Interleaved, and every other round in reverse, so that load from other processes and a
    // machine slowing down or speeding up over the invocation fall on every build alike.
    for (const [name, step] of r % 2 === 0 ? steps : [...steps].reverse()) {
      results.get(name)!.push(await step());
    }
  }
  const ticksAfter = await cpuTicks();
  const rawRuns = results.get("raw")!;
  /** The median over rounds of a run's figure against the same round's raw download. */
  const ratio = (runs: Run[], pick: (run: Run) => number) =>
    median(runs.map((run, r) => pick(run) / pick(rawRuns[r]!)));
  const rawStats = JSON.parse(results.get("raw")![0]!.stdout.trim());
  console.log(
    `raw fetch: ${rawStats.messages} messages, ${
      (rawStats.bytes / 1024 / 1024).toFixed(0)
    } MB of sources`,
  );
  const rows: string[][] = [[
    "run (median of " + RUNS + ")",
    "wall s",
    "user+sys s",
    "user s",
    "peak RSS MB",
    "wall ×raw",
    "cpu ×raw",
    "user ×raw",
    "runs: wall / cpu / rss",
  ]];
  for (const [name, runs] of results) {
    const m = {
      wall: median(runs.map((x) => x.wall)),
      cpu: median(runs.map((x) => x.cpu)),
      user: median(runs.map((x) => x.user)),
      rss: median(runs.map((x) => x.peakRssMb)),
    };
    rows.push([
      name.startsWith("raw")
        ? name.replace("raw", "raw imapflow FETCH of full sources")
        : `produce --once (${name}, ${values.build})`,
      m.wall.toFixed(2),
      m.cpu.toFixed(2),
      m.user.toFixed(2),
      m.rss.toFixed(0),
      ratio(runs, (x) => x.wall).toFixed(2),
      ratio(runs, (x) => x.cpu).toFixed(2),
      ratio(runs, (x) => x.user).toFixed(2),
      runs.map((x) => `${x.wall.toFixed(2)}/${x.cpu.toFixed(2)}/${x.peakRssMb.toFixed(0)}`).join(
        " ",
      ),
    ]);
  }
  if (values["big-message"]) {
    const big = await produce(builds[0]![1], "Big", ["--max-message-bytes", "100000000"]);
    const rawBig = await raw("Big");
    rows.push([
      "produce --once, 1 message of 50 MB",
      big.wall.toFixed(2),
      big.cpu.toFixed(2),
      big.user.toFixed(2),
      big.peakRssMb.toFixed(0),
      "",
      "",
      "",
      "",
    ]);
    rows.push([
      "raw FETCH, 1 message of 50 MB",
      rawBig.wall.toFixed(2),
      rawBig.cpu.toFixed(2),
      rawBig.user.toFixed(2),
      rawBig.peakRssMb.toFixed(0),
      "",
      "",
      "",
      "",
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
  console.log(stealLine(ticksBefore, ticksAfter));
} finally {
  redis.disconnect();
  await Deno.remove(bundles, { recursive: true });
}
