/**
 * Speed and memory of `ingest produce --once` against a private Dovecot and
 * Redis, next to a raw imapflow download of the same mailbox
 * (`bench_imap_raw.ts`), plus one 50 MB message. Prints a table.
 *
 *   deno run -A scripts/bench_produce.ts [--messages 5000] [--large-share 0.03] [--batch-size 50]
 *
 * Mailbox: realistic messages (plain, HTML, encoded words, replies, inline
 * images, attachments) where `--large-share` of them carry a 1–4 MB
 * attachment. Each command runs as a child process; its peak RSS is VmHWM
 * from /proc/<pid>/status.
 *
 * @module
 */

import { Redis } from "ioredis";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { largeMessage, realisticMessage } from "../tests/harness/mail.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { pipelineEnv } from "../tests/harness/pipeline_env.ts";

const USER = "alice@example.test";
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const RAW = new URL("./bench_imap_raw.ts", import.meta.url).pathname;

function flag(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1]! : fallback;
}

const COUNT = Number(flag("messages", "5000"));
const LARGE_SHARE = Number(flag("large-share", "0.03"));
const BATCH_SIZE = flag("batch-size", "50");

/**
 * Message `i`; `LARGE_SHARE` of all messages are attachment-kind ones
 * (`i % 10 === 8`) with a 1–4 MB attachment. Every message keeps its own
 * Message-ID, so none is recognised as a duplicate.
 */
async function* mailbox(count: number): AsyncIterable<Uint8Array> {
  const bigPerHundred = Math.round(LARGE_SHARE * 1000);
  for (let i = 0; i < count; i++) {
    if (i % 10 === 8 && Math.floor(i / 10) % 100 < bigPerHundred) {
      const mb = 1 + ((i * 7919) % 3000) / 1000;
      yield await realisticMessage(i, { attachmentBytes: Math.round(mb * 1024 * 1024) });
    } else {
      yield await realisticMessage(i);
    }
  }
}

interface Run {
  code: number;
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, sampling its peak RSS (VmHWM) until it exits. */
async function measure(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { LOG_FORMAT: "json", LOG_LEVEL: "warn", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peakKb = 0;
  const sampler = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch { /* exited */ }
  }, 20);
  const output = await child.output();
  clearInterval(sampler);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    seconds: (performance.now() - started) / 1000,
    peakRssMb: peakKb / 1024,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function check(run: Run, what: string): Run {
  if (run.code !== 0) throw new Error(`${what} failed (${run.code}): ${run.stderr.slice(-2000)}`);
  return run;
}

await using dovecot = await startDovecot();
await using redisServer = await startRedis();
const redis = new Redis(redisServer.port, "127.0.0.1");
try {
  let seeded = performance.now();
  await dovecot.seedMaildir(USER, "INBOX", mailbox(COUNT));
  await dovecot.seedMaildir(USER, "Big", [largeMessage(50 * 1024 * 1024)]);
  await dovecot.seedMaildir(USER, "Small", mailbox(1));
  seeded = (performance.now() - seeded) / 1000;
  const du = new TextDecoder().decode(
    (await new Deno.Command("du", { args: ["-sm", `${dovecot.dir}/mail`] }).output()).stdout,
  ).split("\t")[0];
  console.error(
    `seeded ${COUNT} messages (+1 of 50 MB) in ${seeded.toFixed(1)} s, ${du} MB on disk`,
  );

  const raw = (mailboxName: string) =>
    measure([
      "run",
      "-A",
      "--quiet",
      RAW,
      "--port",
      String(dovecot.port),
      "--user",
      USER,
      "--password",
      "secret",
      "--mailbox",
      mailboxName,
    ]);
  const produce = (mailboxName: string, stream: string, extra: string[] = []) =>
    measure([
      "run",
      "-A",
      "--quiet",
      MAIN,
      "--env-file",
      "/nonexistent",
      "produce",
      "--once",
      ...extra,
    ], {
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redisServer.url, stream, user: USER }),
      IMAP_MAILBOX: mailboxName,
      STREAM_BACKLOG_LIMIT: String(COUNT * 10),
      REDIS_MAX_STREAM_LENGTH: String(COUNT * 10),
    });

  const rawRun = check(await raw("INBOX"), "raw fetch");
  const rawStats = JSON.parse(rawRun.stdout.trim());
  const produceRun = check(
    await produce("INBOX", "bench", ["--batch-size", BATCH_SIZE]),
    "ingest produce",
  );
  const entries = await redis.xlen("bench");
  // Messages whose BODYSTRUCTURE could not be trusted were fetched whole and parsed by mailparser.
  const parsedWhole = (await redis.xrange("bench", "-", "+"))
    .filter(([, fields]) => fields.some((field) => field.includes('"parsed_by":"full"'))).length;
  const rawAgain = check(await raw("INBOX"), "raw fetch (2nd)");
  const small = check(
    await produce("Small", "bench-small", ["--max-message-bytes", "100000000"]),
    "produce small",
  );
  const big = check(
    await produce("Big", "bench-big", ["--max-message-bytes", "100000000"]),
    "produce 50 MB",
  );
  const rawBig = check(await raw("Big"), "raw fetch 50 MB");

  const rows: [string, string, string, string][] = [
    ["run", "messages", "seconds", "peak RSS MB"],
    [
      "raw imapflow FETCH of full sources",
      String(rawStats.messages),
      rawRun.seconds.toFixed(2),
      rawRun.peakRssMb.toFixed(0),
    ],
    [
      `ingest produce --once --batch-size ${BATCH_SIZE}`,
      String(entries),
      produceRun.seconds.toFixed(2),
      produceRun.peakRssMb.toFixed(0),
    ],
    [
      "raw imapflow FETCH (again)",
      String(rawStats.messages),
      rawAgain.seconds.toFixed(2),
      rawAgain.peakRssMb.toFixed(0),
    ],
    [
      "ingest produce --once, 1 small message",
      String(await redis.xlen("bench-small")),
      small.seconds.toFixed(2),
      small.peakRssMb.toFixed(0),
    ],
    [
      "ingest produce --once, 1 message of 50 MB",
      String(await redis.xlen("bench-big")),
      big.seconds.toFixed(2),
      big.peakRssMb.toFixed(0),
    ],
    [
      "raw imapflow FETCH, 1 message of 50 MB",
      "1",
      rawBig.seconds.toFixed(2),
      rawBig.peakRssMb.toFixed(0),
    ],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
  console.log(
    `\nmailbox: ${COUNT} messages, ${(rawStats.bytes / 1024 / 1024).toFixed(0)} MB of sources; ` +
      `50 MB message: RSS growth over the 1-message run ${
        (big.peakRssMb - small.peakRssMb).toFixed(0)
      } MB`,
  );
  console.log(`messages parsed whole (parsed_by "full"): ${parsedWhole} of ${entries}`);
  if (entries !== COUNT) console.log(`WARNING: stream holds ${entries} entries, expected ${COUNT}`);
} finally {
  redis.disconnect();
}
