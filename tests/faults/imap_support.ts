/**
 * What the IMAP fault scenarios share: the servers (Redis, Dovecot, and the
 * fault proxy between Dovecot and the producer), a producer child process
 * whose log lines are collected, counts read back from the stream, and a
 * sampler of `/ready`.
 *
 * @module
 */

import { Redis } from "ioredis";
import { spawnIngest } from "../harness/cli.ts";
import { type Dovecot, startDovecot } from "../harness/dovecot.ts";
import { realisticMessage } from "../harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../harness/pipeline_env.ts";
import { startRedis, type TestRedis } from "../harness/redis_server.ts";
import { startTcpProxy, type TcpProxy } from "../harness/tcp_proxy.ts";

/** The servers of one scenario; disposing stops them all. */
export interface ImapFaultRig extends AsyncDisposable {
  readonly dovecot: Dovecot;
  readonly redisServer: TestRedis;
  readonly redis: Redis;
  readonly proxy: TcpProxy;
  readonly stream: string;
  /** Environment for `ingest produce` through the proxy, plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
}

/** Starts Redis, Dovecot with `messages` realistic messages in INBOX, and the proxy. */
export async function startImapFaultRig(messages: number): Promise<ImapFaultRig> {
  const dovecot = await startDovecot();
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.port, "127.0.0.1", { lazyConnect: true });
  redis.on("error", () => {});
  await redis.connect();
  const proxy = await startTcpProxy({ targetPort: dovecot.port });
  await dovecot.seedMaildir(TEST_USER, "INBOX", realistic(messages));
  const stream = `faults-${crypto.randomUUID()}`;
  const close = async () => {
    redis.disconnect();
    await proxy.close();
    await redisServer[Symbol.asyncDispose]();
    await dovecot.close();
  };
  return {
    dovecot,
    redisServer,
    redis,
    proxy,
    stream,
    env: (extra = {}) => ({
      ...pipelineEnv({ imapPort: proxy.port, redisUrl: redisServer.url, stream, logLevel: "info" }),
      ...extra,
    }),
    [Symbol.asyncDispose]: close,
  };
}

async function* realistic(count: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield await realisticMessage(i);
}

/** A running `ingest produce` child. */
export interface ProducerChild {
  readonly child: Deno.ChildProcess;
  /** Its stderr (JSON log lines), as far as read. */
  readonly lines: string[];
  /** Waits for it to end; its exit code. */
  exit(): Promise<number>;
}

/** Starts `ingest produce ARGS` as a real process (an unhandled rejection would kill it). */
export function spawnProducer(args: string[], env: Record<string, string>): ProducerChild {
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
    if (buffer) lines.push(buffer);
  })();
  const stdout = child.stdout.cancel();
  return {
    child,
    lines,
    async exit() {
      const status = await child.status;
      await Promise.all([stderr, stdout]);
      return status.code;
    },
  };
}

/** Counts of the email entries in the stream, read from Redis. */
export interface StreamCounts {
  /** Email entries. */
  readonly entries: number;
  /** Distinct idempotency keys. */
  readonly distinct: number;
  /** Entries beyond the first per key. */
  readonly duplicates: number;
  /** Expected keys (`user:INBOX:uidvalidity:1..N`) that are not there. */
  readonly missing: number;
}

/** Reads the whole stream and compares it with UIDs 1..`expected` of INBOX. */
export async function countStream(
  redis: Redis,
  stream: string,
  expected: number,
): Promise<StreamCounts> {
  const keys: string[] = [];
  let start = "-";
  while (true) {
    const rows = await redis.xrange(stream, start, "+", "COUNT", 1000);
    for (const [, fields] of rows) {
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      if (field("type") === "email") keys.push(field("idempotency_key")!);
    }
    if (rows.length < 1000) break;
    start = `(${rows[rows.length - 1]![0]}`;
  }
  const distinct = new Set(keys);
  const validity = await redis.get(`producer_state:${TEST_USER}:INBOX:uidvalidity`);
  let missing = 0;
  for (let uid = 1; uid <= expected; uid++) {
    if (!distinct.has(`${TEST_USER}:INBOX:${validity}:${uid}`)) missing++;
  }
  return {
    entries: keys.length,
    distinct: distinct.size,
    duplicates: keys.length - distinct.size,
    missing,
  };
}

/** One answer of `/ready`. */
export interface ReadySample {
  /** `performance.now()` when it was asked. */
  readonly at: number;
  readonly status: number;
  /** The first mailbox's reason when not ready (or the error). */
  readonly reason?: string;
}

/** Asks `/ready` every `everyMs` until `stop()`; keeps every answer. */
export function sampleReady(port: number, everyMs = 250) {
  const samples: ReadySample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/ready`);
        const body = await response.json().catch(() => ({}));
        const first = body?.checks?.mailboxes?.[0];
        samples.push({ at, status: response.status, reason: first?.reason ?? first?.state });
      } catch {
        samples.push({ at, status: 0, reason: "no answer" });
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Waits until `check()` holds, polling every 50 ms; false after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** The mailbox state `/status` reports, or undefined. */
export async function mailboxState(port: number): Promise<string | undefined> {
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
    return body?.producer?.mailboxes?.[0]?.state;
  } catch {
    return undefined;
  }
}

/** Problems with the stream's counts, one line each. */
export function countProblems(counts: StreamCounts, expected: number): string[] {
  const problems: string[] = [];
  if (counts.duplicates > 0) problems.push(`${counts.duplicates} duplicate entries in the stream`);
  if (counts.missing > 0) problems.push(`${counts.missing} of ${expected} messages missing`);
  if (counts.distinct !== expected) {
    problems.push(`${counts.distinct} distinct entries, expected ${expected}`);
  }
  return problems;
}

/** Log lines whose message matches `pattern`. */
export function linesMatching(lines: readonly string[], pattern: RegExp): number {
  return lines.filter((line) => pattern.test(line)).length;
}
