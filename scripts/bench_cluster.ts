/**
 * Producer throughput on one Redis node vs a 3-master Redis Cluster (all on
 * loopback, started here), and what REDIS_WAIT_REPLICAS costs. Two sections:
 *
 * - `commit`: the producer's Redis path alone, `commitBatch()` (the atomic
 *   script) from `--accounts` mailboxes at once, each committing `--batches`
 *   batches of `--batch-size` entries of ~`--body-kb` KB: messages/s and
 *   per-commit latency (p50, p99), per target. Targets: one node unpartitioned,
 *   one node with 6 partitions, the cluster with 6 partitions, and each with
 *   `REDIS_WAIT_REPLICAS=1` (the one node gets a replica for it).
 * - `produce`: `ingest produce --once` of `--produce-accounts` accounts of
 *   `--messages` realistic messages each, all at once as real processes,
 *   one node vs the cluster: wall time and messages/s (IMAP fetch and MIME
 *   parsing included, so this is bound by the producers' CPU).
 * - `worker`: the worker core draining `--worker-entries` entries spread
 *   over the partitions, null sink and file sink, per target without WAIT
 *   (scripts/_bench_cluster_worker.ts).
 *
 * Each figure is the median of `--runs` runs, the targets interleaved run by
 * run (the machine is shared), after one warm-up run per target.
 *
 *   deno run -A scripts/bench_cluster.ts [--only commit,produce] [--runs 3] [--accounts 12]
 *     [--batches 40] [--batch-size 50] [--body-kb 4] [--produce-accounts 4] [--messages 300]
 *     [--worker-entries 12000] [--worker-concurrency 64]
 *
 * Sections are entries of SECTIONS below: a new one (e.g. worker throughput)
 * is one more function over the same targets.
 *
 * @module
 */

import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { commitBatch, type CommitEntry } from "../src/producer/commit.ts";
import { testEntry } from "../src/producer/_test_entry.ts";
import type { RedisClient } from "../src/redis/client.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { mailboxRef, partitionStream } from "../src/redis/partitions.ts";
import { execIngest } from "../tests/harness/cli.ts";
import { workerSection } from "./_bench_cluster_worker.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { pipelineEnv } from "../tests/harness/pipeline_env.ts";
import { startRedisCluster, type TestRedisCluster } from "../tests/harness/redis_cluster.ts";
import { startRedis, type TestRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  only: { type: "string", default: "commit,produce,worker" },
  accounts: { type: "string", default: "12" },
  batches: { type: "string", default: "40" },
  "batch-size": { type: "string", default: "50" },
  "body-kb": { type: "string", default: "4" },
  "produce-accounts": { type: "string", default: "4" },
  messages: { type: "string", default: "300" },
  runs: { type: "string", default: "3" },
  "worker-entries": { type: "string", default: "12000" },
  "worker-concurrency": { type: "string", default: "64" },
});
const ACCOUNTS = Number(values.accounts);
const BATCHES = Number(values.batches);
const BATCH_SIZE = Number(values["batch-size"]);
const BODY = "x".repeat(Number(values["body-kb"]) * 1024);
const PARTITIONS = 6;
const RUNS = Number(values.runs);

/** Where a section runs: the environment `ingest` needs and a client. */
interface Target {
  readonly name: string;
  /** REDIS_URL or REDIS_CLUSTER_NODES, STREAM_PARTITIONS, REDIS_WAIT_REPLICAS. */
  readonly env: Record<string, string>;
  readonly partitions: number;
  readonly waitReplicas: number;
}

/** The servers every section shares. */
interface Servers {
  readonly single: TestRedis;
  readonly cluster: TestRedisCluster;
}

function targets(servers: Servers): Target[] {
  const single = { REDIS_URL: servers.single.url };
  const cluster = { REDIS_CLUSTER_NODES: servers.cluster.seeds };
  const list: Target[] = [];
  for (const waitReplicas of [0, 1]) {
    const wait = { REDIS_WAIT_REPLICAS: String(waitReplicas) };
    list.push(
      { name: "1 node", env: { ...single, ...wait }, partitions: 1, waitReplicas },
      {
        name: "1 node, 6 partitions",
        env: { ...single, ...wait, STREAM_PARTITIONS: "6" },
        partitions: PARTITIONS,
        waitReplicas,
      },
      {
        name: "cluster 3 masters, 6 partitions",
        env: { ...cluster, ...wait, STREAM_PARTITIONS: "6" },
        partitions: PARTITIONS,
        waitReplicas,
      },
    );
  }
  return list;
}

async function connect(target: Target): Promise<RedisClient> {
  return await connectRedis(loadConfig({ env: target.env }).redis, {
    name: "bench",
    logger: silentLogger,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function entry(account: string, uid: number): CommitEntry {
  const base = testEntry(account, uid, 1);
  return { payload: { ...base.payload, body_text: BODY }, dedupeId: `mid:<${uid}@${account}>` };
}

/** One mailbox committing its batches in turn; returns each commit's latency (ms). */
async function commitLoop(redis: RedisClient, target: Target, run: string, a: number) {
  const account = `a${a}-${run}@bench.test`;
  const ref = mailboxRef(account, "INBOX", target.partitions);
  const stream = partitionStream(`bench-${run}`, ref.partition);
  const latencies: number[] = [];
  let lastUid: number | null = null;
  for (let b = 0; b < BATCHES; b++) {
    const entries = Array.from(
      { length: BATCH_SIZE },
      (_, i) => entry(account, b * BATCH_SIZE + i + 1),
    );
    const started = performance.now();
    const result = await commitBatch(redis, {
      stream,
      ref,
      leaseToken: "",
      expected: { uidValidity: lastUid === null ? null : 1, lastUid },
      uidValidity: 1,
      lastUid: (b + 1) * BATCH_SIZE,
      entries,
      replicas: { count: target.waitReplicas, timeoutMs: 5_000 },
    });
    latencies.push(performance.now() - started);
    if (result.status !== "ok") throw new Error(`commit ${result.status}`);
    lastUid = (b + 1) * BATCH_SIZE;
  }
  return latencies;
}

/** One measured run of the commit path on `target`: messages/s and the latencies. */
async function commitRun(redis: RedisClient, target: Target) {
  const run = crypto.randomUUID().slice(0, 6);
  const started = performance.now();
  const latencies = (await Promise.all(
    Array.from({ length: ACCOUNTS }, (_, a) => commitLoop(redis, target, run, a)),
  )).flat();
  const seconds = (performance.now() - started) / 1000;
  return { rate: ACCOUNTS * BATCHES * BATCH_SIZE / seconds, latencies };
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

async function commitSection(servers: Servers): Promise<string[][]> {
  const all = targets(servers);
  const clients = await Promise.all(all.map(connect));
  try {
    const rates = all.map((): number[] => []);
    const latencies = all.map((): number[] => []);
    for (let run = -1; run < RUNS; run++) {
      for (const [i, target] of all.entries()) {
        const result = await commitRun(clients[i]!, target);
        if (run < 0) continue; // warm-up: scripts loaded, connections and JIT warm
        rates[i]!.push(result.rate);
        latencies[i]!.push(...result.latencies);
      }
    }
    const rows = [["target", "WAIT", "messages/s", "commit p50 ms", "commit p99 ms"]];
    for (const [i, target] of all.entries()) {
      const sorted = latencies[i]!.sort((x, y) => x - y);
      rows.push([
        target.name,
        String(target.waitReplicas),
        String(Math.round(median(rates[i]!))),
        percentile(sorted, 0.5).toFixed(1),
        percentile(sorted, 0.99).toFixed(1),
      ]);
    }
    return rows;
  } finally {
    await Promise.all(clients.map(closeRedis));
  }
}

async function produceSection(servers: Servers): Promise<string[][]> {
  const accounts = Array.from(
    { length: Number(values["produce-accounts"]) },
    (_, i) => `p${i}@bench.test`,
  );
  const count = Number(values.messages);
  await using dovecot = await startDovecot({
    users: accounts.map((user) => ({ user, password: "pw" })),
  });
  for (const [a, user] of accounts.entries()) {
    const messages = [];
    for (let i = 0; i < count; i++) messages.push(await realisticMessage(a * count + i));
    await dovecot.seedMaildir(user, "INBOX", messages);
  }
  const chosen = targets(servers).filter((t) => t.waitReplicas === 0);
  const walls = chosen.map((): number[] => []);
  for (let run = 0; run < RUNS; run++) {
    for (const [i, target] of chosen.entries()) {
      walls[i]!.push(await produceRun(dovecot.port, accounts, target));
    }
  }
  const rows = [["target", "accounts", "messages/s", "wall s"]];
  for (const [i, target] of chosen.entries()) {
    const seconds = median(walls[i]!);
    rows.push([
      target.name,
      String(accounts.length),
      String(Math.round(accounts.length * count / seconds)),
      seconds.toFixed(2),
    ]);
  }
  return rows;
}

/** Every account's `produce --once` at once into a fresh stream; returns wall seconds. */
async function produceRun(imapPort: number, accounts: string[], target: Target): Promise<number> {
  const stream = `produce-${crypto.randomUUID().slice(0, 6)}`;
  const started = performance.now();
  const results = await Promise.all(accounts.map((user) =>
    execIngest(["produce", "--once"], {
      env: {
        ...pipelineEnv({ imapPort, user, password: "pw", stream }),
        ...target.env,
        LOG_LEVEL: "error",
      },
    })
  ));
  const failed = results.find((r) => r.code !== 0);
  if (failed) throw new Error(`produce failed: ${failed.stderr.slice(-2_000)}`);
  return (performance.now() - started) / 1000;
}

/** The sections, by `--only` name. */
const SECTIONS: Record<string, (servers: Servers) => Promise<string[][]>> = {
  commit: commitSection,
  produce: produceSection,
  worker: (servers) =>
    workerSection(targets(servers).filter((t) => t.waitReplicas === 0), {
      entries: Number(values["worker-entries"]),
      concurrency: Number(values["worker-concurrency"]),
      runs: RUNS,
    }),
};

function print(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\n${title}`);
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
}

async function main(): Promise<void> {
  await using single = await startRedis();
  await using replica = await startRedis();
  await replica.cli("REPLICAOF", "127.0.0.1", String(single.port));
  await using cluster = await startRedisCluster();
  const check = new Redis(replica.port, "127.0.0.1");
  while (!/master_link_status:up/.test(await check.info("replication"))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  check.disconnect();
  console.log(
    `redis-server ${(await single.cli("INFO", "server")).match(/redis_version:(\S+)/)?.[1]}, ` +
      `cores ${navigator.hardwareConcurrency}; one node has 1 replica, the cluster 3 masters + 3 replicas`,
  );
  for (const name of values.only.split(",")) {
    const section = SECTIONS[name.trim()];
    if (!section) throw new Error(`--only: no section ${name} (have ${Object.keys(SECTIONS)})`);
    print(name, await section({ single, cluster }));
  }
}

if (import.meta.main) await main();
