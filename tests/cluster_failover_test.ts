/**
 * A master of a real Redis Cluster SIGKILLed while producers run with
 * STREAM_PARTITIONS=6: the replica is promoted, the producers carry on, and
 * the stream ends with every message exactly once (cursor and entries of a
 * commit are one slot, so a lost commit is lost whole and read again from
 * IMAP). With REDIS_WAIT_REPLICAS=1 no entry that anyone saw is lost.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { mailboxRef, partitionStream } from "../src/redis/partitions.ts";
import { spawnIngest } from "./harness/cli.ts";
import type { Dovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";
import { startRedisCluster, type TestRedisCluster } from "./harness/redis_cluster.ts";
import { partitionEmails, PARTITIONS, seededDovecot } from "./partition_fixtures.ts";

const ACCOUNTS = ["ann@example.test", "ben@example.test", "cyd@example.test"];
const BEFORE = 10;
const DURING = 24;

/** Appends one message per account every `everyMs` until `count` each; calls `midway` once. */
async function appendMail(dovecot: Dovecot, count: number, midway: () => Promise<void>) {
  for (let i = 0; i < count; i++) {
    if (i === Math.floor(count / 3)) await midway();
    for (const [a, user] of ACCOUNTS.entries()) {
      await dovecot.append(user, "INBOX", await realisticMessage(1_000 * a + BEFORE + i));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function killAndRecover(cluster: TestRedisCluster, key: string): Promise<string> {
  const owner = await cluster.masterOf(key);
  const promoted = await cluster.killMaster(owner);
  // The old master comes back as the promoted one's replica (REDIS_WAIT_REPLICAS needs one).
  await cluster.restart(owner);
  await cluster.waitOk();
  return `${owner} -> ${promoted}`;
}

async function failoverRun(waitReplicas: number): Promise<void> {
  await using cluster = await startRedisCluster();
  await using dovecot = await seededDovecot(ACCOUNTS, BEFORE, 1_000);
  const stream = `fo-${crypto.randomUUID().slice(0, 8)}`;
  const clusterEnv = {
    REDIS_CLUSTER_NODES: cluster.seeds,
    STREAM_PARTITIONS: String(PARTITIONS),
    REDIS_WAIT_REPLICAS: String(waitReplicas),
  };
  const redis = await connectRedis(loadConfig({ env: clusterEnv }).redis, {
    name: "t",
    logger: silentLogger,
  });
  const producers = ACCOUNTS.map((user) => {
    const child = spawnIngest(["produce"], {
      env: {
        ...pipelineEnv({ imapPort: dovecot.port, user, password: "secret", stream }),
        ...clusterEnv,
        LOG_LEVEL: "warn",
      },
    });
    const running = { child, output: child.output(), exited: false };
    child.status.then(() => running.exited = true);
    return running;
  });
  const seen = new Map<string, string>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const row of await partitionEmails(redis, stream).catch(() => [])) {
        seen.set(row.id, row.stream);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const victim = partitionStream(stream, mailboxRef(ACCOUNTS[0]!, "INBOX", PARTITIONS).partition);
    let failover = "";
    await appendMail(dovecot, DURING, async () => {
      failover = await killAndRecover(cluster, victim);
    });
    const expected = ACCOUNTS.length * (BEFORE + DURING);
    const deadline = Date.now() + 60_000;
    let rows = await partitionEmails(redis, stream);
    while (new Set(rows.map((r) => r.key)).size < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await partitionEmails(redis, stream);
    }
    watching = false;
    await watcher;
    assert.deepEqual(producers.map((p) => p.exited), ACCOUNTS.map(() => false), "still running");
    const keys = rows.map((r) => r.key);
    assert.equal(new Set(keys).size, expected, `every message in the stream (${failover})`);
    assert.equal(keys.length, expected, "none twice: a lost commit is lost with its cursor");
    for (const user of ACCOUNTS) {
      const home = partitionStream(stream, mailboxRef(user, "INBOX", PARTITIONS).partition);
      assert.ok(rows.filter((r) => r.key.startsWith(`${user}:`)).every((r) => r.stream === home));
    }
    const present = new Set(rows.map((r) => r.id));
    const lost = [...seen.keys()].filter((id) => !present.has(id));
    console.log(
      `REDIS_WAIT_REPLICAS=${waitReplicas}: failover ${failover}; ${seen.size} entries seen ` +
        `during the run, ${lost.length} of them lost to the failover (and re-read from IMAP)`,
    );
    if (waitReplicas > 0) assert.deepEqual(lost, [], "with WAIT no entry anyone saw is lost");
  } finally {
    watching = false;
    await watcher;
    // Which producers ended on their own, before the SIGTERM below: their logs say why.
    const endedEarly = producers.map((p) => p.exited);
    for (const p of producers) {
      try {
        p.child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    const outputs = await Promise.all(producers.map((p) => p.output));
    const logs = outputs.map((out) => new TextDecoder().decode(out.stderr)).join("\n");
    const warnings = logs.split("\n").filter((line) => /"level":"(warn|error)"/.test(line));
    const behind = warnings.filter((line) =>
      line.includes("(REDIS_WAIT_REPLICAS) confirmed")
    ).length;
    console.log(
      `producer warnings: ${warnings.length} (of them WAIT short of replicas: ${behind})`,
    );
    for (const [i, out] of outputs.entries()) {
      if (out.code !== 0 || endedEarly[i]) {
        console.error(
          `producer of ${ACCOUNTS[i]} (exit ${out.code}${
            endedEarly[i] ? ", ended early" : ""
          }):\n` +
            new TextDecoder().decode(out.stderr).slice(-3_000),
        );
      }
    }
    await closeRedis(redis);
  }
}

for (const waitReplicas of [0, 1]) {
  Deno.test({
    name: `a SIGKILLed master while producers run (REDIS_WAIT_REPLICAS=${waitReplicas}): ` +
      `replica promoted, producers carry on, every message once`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => failoverRun(waitReplicas),
  });
}
