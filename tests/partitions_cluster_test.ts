/**
 * `ingest work` and the ops commands over 6 partitions on a real Redis
 * Cluster (3 masters + 3 replicas on loopback): each partition's worker keys
 * share its stream's slot (CLUSTER KEYSLOT), two workers deliver every entry
 * once, the DLQ move and replay run as one script in the partition's slot,
 * and a master SIGKILLed while the workers run costs nothing: the file sinks
 * end with every message, a message seen twice only with the same
 * Idempotency-Key.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import {
  attemptsKey,
  legacyProcessedKey,
  processedMovedKey,
  processedSetKey,
  retryScheduleKey,
} from "../src/redis/keys.ts";
import { partitionStreams } from "../src/redis/partitions.ts";
import { groupKeys } from "../src/worker/group_keys.ts";
import { moveLegacyRecords } from "../src/worker/legacy_records.ts";
import { runIngest } from "./harness/cli.ts";
import { startRedisCluster } from "./harness/redis_cluster.ts";
import { deliveredUids, PARTITIONS, sorted, spreadEmails } from "./partition_fixtures.ts";
import { freshStream, range, readJsonLines, waitUntil } from "./worker_fixtures.ts";

const GROUP = "email_workers";

Deno.test({
  name: "work, dlq and stream inspect over 6 partitions on a real Redis Cluster",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using cluster = await startRedisCluster();
    const env = (stream: string) => ({
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_STREAM_NAME: stream,
      STREAM_PARTITIONS: String(PARTITIONS),
      WORKER_BACKOFF_BASE_MS: "20",
      WORKER_BACKOFF_CAP_MS: "200",
      LOG_LEVEL: "error",
    });
    const config = loadConfig({ env: env("unused") });
    const redis = await connectRedis(config.redis, { name: "test", logger: silentLogger });
    const dir = await Deno.makeTempDir({ prefix: "ingest-partitions-cluster-" });
    const slot = async (key: string) => (await cluster.cli(["CLUSTER", "KEYSLOT", key])).trim();
    try {
      await t.step("each partition's worker keys and DLQ are in its stream's slot", async () => {
        const streams = partitionStreams("email_ingestion_stream", PARTITIONS);
        const dlqs = partitionStreams("email_ingestion_stream:dlq", PARTITIONS);
        const slots = new Set<string>();
        for (const [i, stream] of streams.entries()) {
          const own = await slot(stream);
          slots.add(own);
          for (
            const key of [
              processedSetKey(stream, GROUP),
              processedMovedKey(stream, GROUP),
              retryScheduleKey(stream, GROUP),
              attemptsKey(stream, GROUP),
              dlqs[i]!,
            ]
          ) {
            assert.equal(await slot(key), own, `${key} is in ${stream}'s slot`);
          }
        }
        assert.equal(slots.size, PARTITIONS);
        const owners = new Set(await Promise.all(streams.map((s) => cluster.masterOf(s))));
        assert.ok(owners.size >= 2, "the partitions spread over several masters");
      });

      await t.step("release 0.1.0's processed-records are moved from every master", async () => {
        // A stream without a hash tag spreads its 0.1.0 records over every slot and master;
        // a partition's stay in its slot.
        for (const stream of ["legacy-plain", partitionStreams("legacy", PARTITIONS)[2]!]) {
          const keys = groupKeys(stream, GROUP, `${stream}:dlq`);
          for (let i = 0; i < 300; i++) {
            await redis.set(legacyProcessedKey(stream, GROUP, `k${i}`), "{}", "EX", 600);
          }
          assert.equal(await moveLegacyRecords(redis, keys, 1_000), 300, stream);
          assert.equal(await redis.zcard(keys.processed), 300);
          const left = await Promise.all(
            [0, 150, 299].map((i) => redis.exists(legacyProcessedKey(stream, GROUP, `k${i}`))),
          );
          assert.deepEqual(left, [0, 0, 0], `${stream}'s old records are gone`);
        }
      });

      await t.step(
        "two workers drain every partition; DLQ and replay stay in the slot",
        async () => {
          const stream = freshStream("cluster");
          await spreadEmails(redis, stream, range(600));
          const poisoned = partitionStreams(stream, PARTITIONS)[3]!;
          await redis.xadd(poisoned, "*", "type", "email", "idempotency_key", "k", "payload", "{");
          const sinks = [`${dir}/a.jsonl`, `${dir}/b.jsonl`];
          const runs = await Promise.all(sinks.map((sink, i) =>
            runIngest(
              ["work", "--drain", "--sink", `file:${sink}`, "--consumer", `w${i}`],
              { env: env(stream) },
            )
          ));
          for (const run of runs) assert.ok(run.code === 0 || run.code === 3, run.stderr);
          assert.equal(runs.filter((run) => run.code === 3).length, 1, "one of them dead-lettered");
          assert.deepEqual(sorted(await deliveredUids(...sinks)), range(600));
          const listed = JSON.parse(
            (await runIngest(["dlq", "list", "--json"], { env: env(stream) })).stdout,
          );
          assert.equal(listed.total, 1);
          assert.equal(listed.entries[0].partition, 3);
          const replay = await runIngest(["dlq", "replay", "--all", "--json"], {
            env: env(stream),
          });
          assert.equal(replay.code, 0, replay.stderr);
          assert.equal(JSON.parse(replay.stdout).replayed[0].stream, poisoned);
          const inspect = JSON.parse(
            (await runIngest(["stream", "inspect", "--json"], { env: env(stream) })).stdout,
          );
          assert.equal(inspect.partitions.length, PARTITIONS);
          assert.equal(inspect.length, 602, "600, the malformed entry and its replay");
          assert.equal(
            inspect.partitions.reduce(
              (sum: number, row: { length: number }) => sum + row.length,
              0,
            ),
            inspect.length,
          );
          assert.equal(inspect.groups[0].lag, 1, "the replayed entry waits");
        },
      );

      await t.step(
        "a master SIGKILLed while two workers run: every message, no stranger duplicates",
        async () => {
          const stream = freshStream("failover");
          const total = 3000;
          await spreadEmails(redis, stream, range(total));
          await cluster.waitReplicated();
          const stop = new AbortController();
          const sinks = [`${dir}/fa.jsonl`, `${dir}/fb.jsonl`];
          const workers = sinks.map((sink, i) =>
            runIngest(["work", "--sink", `file:${sink}`, "--consumer", `f${i}`], {
              env: env(stream),
              signal: stop.signal,
            })
          );
          try {
            await waitUntil(
              "some delivered",
              async () => (await deliveredUids(...sinks)).length > 300,
              30_000,
            );
            const victim = await cluster.masterOf(partitionStreams(stream, PARTITIONS)[0]!);
            const promoted = await cluster.killMaster(victim);
            const atKill = (await deliveredUids(...sinks)).length;
            console.log(`killed master ${victim} at ${atKill} delivered; ${promoted} promoted`);
            assert.ok(atKill < total, "the master died while entries were still flowing");
            await waitUntil(
              "every message delivered",
              async () => new Set(await deliveredUids(...sinks)).size === total,
              60_000,
            );
          } finally {
            stop.abort();
          }
          for (const run of await Promise.all(workers)) assert.equal(run.code, 0, run.stderr);
          const lines = (await Promise.all(sinks.map(readJsonLines))).flat();
          const keyOf = new Map<number, string>();
          for (const line of lines) {
            const uid = (line.payload as { uid: number }).uid;
            const key = String(line.idempotency_key);
            assert.equal(keyOf.get(uid) ?? key, key, `uid ${uid} twice, with the same key`);
            keyOf.set(uid, key);
          }
          assert.deepEqual(sorted([...keyOf.keys()]), range(total));
          console.log(`${lines.length - total} duplicate deliveries (same Idempotency-Key)`);
        },
      );
    } finally {
      await closeRedis(redis);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
