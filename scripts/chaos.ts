/**
 * The chaos suite: the whole pipeline under faults, then proof that nothing
 * was lost or doubled.
 *
 *     deno run -A scripts/chaos.ts [--messages 300] [--faults 12] [--seed 7]
 *
 * Starts a private redis-server (append-only, fsync always, so a SIGKILL
 * loses nothing Redis acknowledged) and Dovecot, a live `ingest produce`
 * (IDLE) and two `ingest work --sink file:…` processes. It delivers messages
 * in rounds and, between rounds, injects seeded faults: SIGKILL of the
 * producer or of a worker, SIGKILL of redis-server, a Dovecot restart. Dead
 * `ingest` processes are restarted, as systemd would. At the end it waits for
 * the pipeline to settle, drains it, and checks that the stream holds each
 * delivered message exactly once and that every message reached a sink
 * (counting re-deliveries from the documented at-least-once window).
 * Exit code 1 when a message was lost or the stream holds a duplicate.
 *
 * @module
 */

import { Redis } from "ioredis";
import { runIngest } from "../tests/harness/cli.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { int, random } from "../tests/harness/fuzz.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Messages delivered in all. */
  messages: number;
  /** Faults injected, spread over the delivery rounds. */
  faults: number;
  seed: number;
  /** These faults in this order instead of seeded random ones (one per round). */
  sequence?: readonly FaultKind[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Kinds of faults. */
export type FaultKind = "kill_producer" | "kill_worker" | "kill_redis" | "restart_dovecot";

/** What a chaos run saw. */
export interface ChaosReport {
  seed: number;
  delivered: number;
  faults: Record<FaultKind, number>;
  /** Distinct messages in the stream. */
  inStream: number;
  /** Stream entries whose idempotency key was already seen (must be 0). */
  streamDuplicates: number;
  /** Delivered messages missing from the stream (must be 0). */
  lostInStream: number;
  /** Delivered messages that no sink received (must be 0). */
  lostInSinks: number;
  /** Sink lines beyond the first per message (the at-least-once window). */
  sinkRedeliveries: number;
  /** `ingest` processes that exited without being killed by the run. */
  unexpectedExits: number;
  ok: boolean;
  seconds: number;
}

const FAULTS: readonly FaultKind[] = [
  "kill_producer",
  "kill_worker",
  "kill_redis",
  "restart_dovecot",
];
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

/** A long-running `ingest` process that the run restarts when it dies. */
class Service {
  #child: Deno.ChildProcess | undefined;
  #killedOnPurpose = false;
  unexpectedExits = 0;

  constructor(readonly args: string[], readonly env: Record<string, string>) {}

  start(): void {
    this.#killedOnPurpose = false;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        MAIN,
        "--no-env-file",
        ...this.args,
      ],
      env: { ...this.env, LOG_LEVEL: "error", HEALTH_PORT: "0" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#child = child;
    child.status.then(() => {
      if (this.#child === child && !this.#killedOnPurpose) this.unexpectedExits++;
      if (this.#child === child) this.#child = undefined;
    });
  }

  /** Restarts it when it is not running. */
  ensureRunning(): void {
    if (!this.#child) this.start();
  }

  async kill(signal: Deno.Signal): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#killedOnPurpose = true;
    this.#child = undefined;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  }
}

/** Runs the pipeline under faults and reports what reached the stream and the sinks. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const rng = random(options.seed);
  await using redisServer = await startRedis({
    args: ["--appendonly", "yes", "--appendfsync", "always"],
  });
  await using dovecot = await startDovecot();
  const dir = await Deno.makeTempDir({ prefix: "ingest-chaos-" });
  const stream = `chaos-${options.seed}`;
  const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: redisServer.url, stream });
  const producer = new Service(["produce", "--lease-ttl", "3"], env);
  const workers = [0, 1].map((i) =>
    new Service(
      ["work", "--sink", `file:${dir}/worker-${i}.jsonl`, "--visibility-timeout", "3"],
      env,
    )
  );
  const services = [producer, ...workers];
  const faults = Object.fromEntries(FAULTS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  const redis = new Redis(redisServer.port, "127.0.0.1", {
    maxRetriesPerRequest: null,
    retryStrategy: () => 100,
  });
  redis.on("error", () => {}); // Redis is killed on purpose; commands wait for it to return.
  try {
    for (const service of services) service.start();
    const rounds = Math.max(1, options.sequence?.length ?? options.faults);
    let delivered = 0;
    for (let round = 0; round < rounds; round++) {
      const quota = Math.round((options.messages * (round + 1)) / rounds) - delivered;
      for (let i = 0; i < quota; i++) {
        await dovecot.append(TEST_USER, "INBOX", await realisticMessage(delivered++));
      }
      const fault = options.sequence?.[round] ?? FAULTS[int(rng, FAULTS.length)]!;
      faults[fault]++;
      log(`round ${round + 1}/${rounds}: ${delivered} delivered, fault ${fault}`);
      await injectFault(fault, { producer, workers, redisServer, dovecot, rng });
      await sleep(200 + int(rng, 800));
      for (const service of services) service.ensureRunning();
    }

    log("settling: waiting for every message to reach the stream and be acknowledged");
    await waitUntil(async () => {
      for (const service of services) service.ensureRunning();
      const [keys, backlog] = await Promise.all([
        streamKeys(redis, stream),
        pendingAndLag(redis, stream),
      ]);
      return keys.distinct >= delivered && backlog === 0;
    }, 120_000);
    for (const service of services) await service.kill("SIGTERM");
    const drain = await runIngest(["work", "--drain", "--sink", `file:${dir}/drain.jsonl`], {
      env,
    });
    if (drain.code !== 0) throw new Error(`final drain failed: ${drain.stderr}`);

    const inStream = await streamKeys(redis, stream);
    const sinkCounts = await sinkKeyCounts(dir);
    const uidValidity = await redis.get(`producer_state:${TEST_USER}:INBOX:uidvalidity`);
    const expected = Array.from(
      { length: delivered },
      (_, i) => `${TEST_USER}:INBOX:${uidValidity}:${i + 1}`,
    );
    const lostInStream = expected.filter((key) => !inStream.keys.has(key)).length;
    const lostInSinks = expected.filter((key) => !sinkCounts.has(key)).length;
    const sinkRedeliveries = [...sinkCounts.values()].reduce((sum, n) => sum + n - 1, 0);
    const unexpectedExits = services.reduce((sum, s) => sum + s.unexpectedExits, 0);
    return {
      seed: options.seed,
      delivered,
      faults,
      inStream: inStream.distinct,
      streamDuplicates: inStream.total - inStream.distinct,
      lostInStream,
      lostInSinks,
      sinkRedeliveries,
      unexpectedExits,
      ok: lostInStream === 0 && lostInSinks === 0 && inStream.total === inStream.distinct,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    for (const service of services) await service.kill("SIGKILL");
    redis.disconnect();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

interface FaultTargets {
  producer: Service;
  workers: Service[];
  redisServer: { stop(options?: { hard?: boolean }): Promise<void>; start(): Promise<void> };
  dovecot: { stop(): Promise<void>; start(): Promise<void> };
  rng: () => number;
}

async function injectFault(kind: FaultKind, targets: FaultTargets): Promise<void> {
  switch (kind) {
    case "kill_producer":
      return await targets.producer.kill("SIGKILL");
    case "kill_worker":
      return await targets.workers[int(targets.rng, targets.workers.length)]!.kill("SIGKILL");
    case "kill_redis":
      await targets.redisServer.stop({ hard: true });
      await sleep(300 + int(targets.rng, 1200));
      return await targets.redisServer.start();
    case "restart_dovecot":
      await targets.dovecot.stop();
      await sleep(300 + int(targets.rng, 1200));
      return await targets.dovecot.start();
  }
}

/** Email entries of the stream: how many, and their distinct idempotency keys. */
async function streamKeys(
  redis: Redis,
  stream: string,
): Promise<{ total: number; distinct: number; keys: Set<string> }> {
  const entries = await redis.xrange(stream, "-", "+");
  const keys = entries
    .map(([, fields]) => fields)
    .filter((fields) => fields[1] === "email")
    .map((fields) => fields[3]!);
  const distinct = new Set(keys);
  return { total: keys.length, distinct: distinct.size, keys: distinct };
}

/** Entries of the worker group not yet acknowledged: pending plus lag. */
async function pendingAndLag(redis: Redis, stream: string): Promise<number> {
  const groups = await redis.xinfo("GROUPS", stream).catch(() => []) as unknown[][];
  let backlog = 0;
  for (const group of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < group.length; i += 2) info.set(String(group[i]), group[i + 1]);
    backlog += Number(info.get("pending") ?? 0) + Number(info.get("lag") ?? 1);
  }
  return groups.length === 0 ? 1 : backlog;
}

/** How many times each idempotency key appears across the sink files. */
async function sinkKeyCounts(dir: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const file of Deno.readDir(dir)) {
    const text = await Deno.readTextFile(`${dir}/${file.name}`);
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const key = (JSON.parse(line) as { idempotency_key: string }).idempotency_key;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error("the pipeline did not settle in time");
    await sleep(250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (import.meta.main) {
  const values = scriptOptions(import.meta.filename!, {
    messages: { type: "string", default: "300" },
    faults: { type: "string", default: "12" },
    seed: { type: "string", default: "7" },
  });
  const report = await runChaos({
    messages: Number(values.messages),
    faults: Number(values.faults),
    seed: Number(values.seed),
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(report, null, 2));
  Deno.exit(report.ok ? 0 : 1);
}
