/**
 * `ingest work` and the ops commands over a partitioned stream
 * (STREAM_PARTITIONS=6) on one real redis-server: entries spread over the
 * partitions, two workers drain them into file sinks (each entry once), a
 * SIGKILLed worker's entry is reclaimed by the other, the DLQ and its replay
 * stay per partition, and `stream inspect` totals are the sum of its rows.
 * The same on a real Redis Cluster: tests/partitions_cluster_test.ts.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { processedSetKey } from "../src/redis/keys.ts";
import { partitionStreams } from "../src/redis/partitions.ts";
import { compareStreamIds } from "../src/stream/partition_set.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  blockingHandler,
  deliveredUids,
  PARTITIONS,
  sorted,
  spreadEmails,
} from "./partition_fixtures.ts";
import { client, freshStream, range, waitUntil, workerEnv } from "./worker_fixtures.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

/** Entries pending in `stream`'s group. */
async function pending(redis: Redis, stream: string): Promise<number> {
  return Number((await redis.xpending(stream, "email_workers") as [number])[0]);
}

Deno.test("work and the ops commands over 6 partitions of one Redis", async (t) => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-partitions-" });
  const env = (stream: string, extra: Record<string, string> = {}) =>
    workerEnv(server.url, stream, { STREAM_PARTITIONS: String(PARTITIONS), ...extra });
  try {
    await t.step(
      "two workers drain every partition: each entry once, both take a share",
      async () => {
        const stream = freshStream("parts");
        const perPartition = await spreadEmails(redis, stream, range(600));
        assert.deepEqual(perPartition, [100, 100, 100, 100, 100, 100]);
        const sinks = [`${dir}/a.jsonl`, `${dir}/b.jsonl`];
        const runs = await Promise.all(sinks.map((sink, i) =>
          runIngest(
            ["work", "--drain", "--sink", `file:${sink}`, "--consumer", `w${i}`],
            { env: env(stream) },
          )
        ));
        for (const run of runs) assert.equal(run.code, 0, run.stderr);
        const uids = await deliveredUids(...sinks);
        assert.deepEqual(sorted(uids), range(600), "every entry delivered exactly once");
        const shares = await Promise.all(sinks.map(async (s) => (await deliveredUids(s)).length));
        console.log(`shares of the two workers: ${shares.join(" + ")}`);
        assert.ok(shares.every((share) => share >= 60), `each worker took >= 10%: ${shares}`);
        for (const partitionStream of partitionStreams(stream, PARTITIONS)) {
          assert.equal(await pending(redis, partitionStream), 0);
          // The idempotency records live beside their partition: same hash tag.
          const records = await redis.zcard(processedSetKey(partitionStream, "email_workers"));
          assert.equal(records, 100, `${partitionStream} has its 100 processed-records`);
        }
      },
    );

    await t.step("stream inspect --json: totals are the sum of the partition rows", async () => {
      const stream = freshStream("inspect");
      await spreadEmails(redis, stream, range(60));
      await redis.call(
        "XREADGROUP",
        "GROUP",
        "email_workers",
        "probe",
        "COUNT",
        3,
        "STREAMS",
        partitionStreams(stream, PARTITIONS)[2]!,
        ">",
      ).catch(() => {});
      const run = await runIngest(["stream", "inspect", "--json", "--tail", "4"], {
        env: env(stream),
      });
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      await assertMatchesSchema("stream_inspect", report);
      assert.equal(report.partitions.length, PARTITIONS);
      assert.equal(report.length, 60);
      const rowSum = (pick: (row: { length: number; dlq: { length: number } }) => number) =>
        report.partitions.reduce((sum: number, row: never) => sum + pick(row), 0);
      assert.equal(rowSum((row) => row.length), report.length);
      assert.equal(rowSum((row) => row.dlq.length), report.dlq.length);
      assert.deepEqual(
        report.partitions.map((row: { stream: string }) => row.stream),
        partitionStreams(stream, PARTITIONS),
      );
      assert.equal(report.tail.length, 4);
      const text = await runIngest(["stream", "inspect"], { env: env(stream) });
      assert.match(text.stdout, /6 partitions: totals/);
      assert.match(text.stdout, /PARTITION +STREAM +LENGTH/);
    });

    await t.step(
      "a SIGKILLed worker's entry is reclaimed in its partition by the other",
      async () => {
        const stream = freshStream("kill");
        await spreadEmails(redis, stream, range(60));
        const handler = `${dir}/block_one.ts`;
        await Deno.writeTextFile(handler, blockingHandler(dir));
        const doomed = spawnIngest(
          ["work", "--sink", `module:${handler}`, "--consumer", "doomed"],
          { env: { ...env(stream), HANDLER_MODE: "block" } },
        );
        const streams = partitionStreams(stream, PARTITIONS);
        const allPending = async () =>
          (await Promise.all(streams.map((s) => pending(redis, s)))).reduce((a, b) => a + b, 0);
        // Every other entry handled and acknowledged; uid 1 (partition 1) held by the handler.
        await waitUntil(
          "59 delivered, only uid 1 pending",
          async () =>
            (await deliveredUids(`${dir}/out.jsonl`)).length === 59 && await allPending() === 1,
        );
        doomed.kill("SIGKILL");
        assert.equal((await doomed.status).signal, "SIGKILL");
        await doomed.stdout.cancel();
        await doomed.stderr.cancel();
        assert.equal(await pending(redis, streams[1]!), 1, "uid 1 is pending on the dead worker");
        const survivor = await runIngest(
          ["work", "--drain", "--sink", `module:${handler}`, "--consumer", "survivor"],
          { env: env(stream, { WORKER_VISIBILITY_TIMEOUT_SECONDS: "1" }) },
        );
        assert.equal(survivor.code, 0, survivor.stderr);
        assert.deepEqual(sorted(await deliveredUids(`${dir}/out.jsonl`)), range(60));
        assert.equal(await allPending(), 0);
      },
    );

    await t.step("the DLQ is per partition: list, replay and purge find each entry", async () => {
      const stream = freshStream("dlq");
      await spreadEmails(redis, stream, range(30));
      const streams = partitionStreams(stream, PARTITIONS);
      const dlqs = partitionStreams(`${stream}:dlq`, PARTITIONS);
      await redis.xadd(streams[5]!, "*", "type", "email", "idempotency_key", "k", "payload", "{");
      const refusing = `${dir}/refuse.ts`;
      await Deno.writeTextFile(
        refusing,
        `import { PermanentError } from ${JSON.stringify(MOD_URL)};
export function handle(email: { uid: number }): void {
  if (email.uid === 8 || email.uid === 10) throw new PermanentError("refused");
}
`,
      );
      const ingest = (...args: string[]) => runIngest(args, { env: env(stream) });
      const drained = await ingest("work", "--drain", "--sink", `module:${refusing}`);
      assert.equal(drained.code, 3, drained.stderr);
      assert.deepEqual(
        await Promise.all(dlqs.map((d) => redis.xlen(d))),
        [0, 0, 1, 0, 1, 1],
        "uid 8 in partition 2, uid 10 in 4, the malformed entry in 5",
      );
      const listed = JSON.parse((await ingest("dlq", "list", "--json")).stdout);
      await assertMatchesSchema("dlq_list", listed);
      assert.equal(listed.total, 3);
      type Listed = { id: string; partition: number; uid: number | null };
      const entries: Listed[] = listed.entries;
      assert.deepEqual(
        entries.map((e) => [e.partition, e.uid]).sort(),
        [[2, 8], [4, 10], [5, null]],
      );
      const ids = entries.map((e) => e.id);
      assert.deepEqual(ids, [...ids].sort(compareStreamIds), "oldest first over all partitions");
      // Ids are per stream: name the partition (P/ID), two DLQs may hold the same id.
      const byUid = (uid: number | null) => {
        const entry = entries.find((e) => e.uid === uid)!;
        return `${entry.partition}/${entry.id}`;
      };
      assert.deepEqual(listed.partitions.map((r: { total: number }) => r.total), [
        0,
        0,
        1,
        0,
        1,
        1,
      ]);
      const page = JSON.parse(
        (await ingest("dlq", "list", "--json", "--offset", "1", "--limit", "1")).stdout,
      );
      assert.deepEqual(page.entries.map((e: Listed) => e.id), [ids[1]]);

      // The same id in two partitions' DLQs: a bare --id is refused, naming both.
      const ten = entries.find((e) => e.uid === 10)!;
      const tenFields = (await redis.xrange(dlqs[4]!, ten.id, ten.id))[0]![1];
      await redis.xadd(dlqs[0]!, ten.id, ...tenFields);
      const ambiguous = await ingest("dlq", "replay", "--id", ten.id);
      assert.equal(ambiguous.code, 2);
      // (Entries dead-lettered in the same millisecond share an id anyway: count those too.)
      const holding = [];
      for (const [i, d] of dlqs.entries()) {
        if ((await redis.xrange(d, ten.id, ten.id)).length > 0) holding.push(i);
      }
      assert.ok(holding.includes(0) && holding.includes(4));
      assert.match(
        ambiguous.stderr,
        new RegExp(`${ten.id} is in the DLQs of partitions ${holding.join(", ")}`),
      );
      const outOfRange = await ingest("dlq", "purge", "--id", `6/${ten.id}`, "--yes");
      assert.equal(outOfRange.code, 2);
      assert.match(outOfRange.stderr, /there are 6 partitions/);
      await redis.xdel(dlqs[0]!, ten.id);
      const before = await redis.xlen(streams[2]!);
      const replay = await ingest("dlq", "replay", "--id", byUid(8), "--json");
      assert.equal(replay.code, 0, replay.stderr);
      const replayed = JSON.parse(replay.stdout);
      await assertMatchesSchema("dlq_replay", replayed);
      assert.deepEqual(
        [replayed.replayed[0].partition, replayed.replayed[0].stream],
        [2, streams[2]],
      );
      assert.equal(await redis.xlen(streams[2]!), before + 1, "back in its own partition");
      assert.equal(await redis.xlen(dlqs[2]!), 0);
      const dryRun = await ingest("dlq", "replay", "--all", "--dry-run", "--json");
      const dry = JSON.parse(dryRun.stdout);
      assert.deepEqual(dry.replayed.map((r: { partition: number }) => r.partition), [4, 5]);

      const purge = await ingest(
        ...["dlq", "purge", "--id", byUid(null), "--id", "1-1", "--yes", "--json"],
      );
      assert.equal(purge.code, 1, "1-1 is in no partition's DLQ");
      const purged = JSON.parse(purge.stdout);
      await assertMatchesSchema("dlq_purge", purged);
      assert.deepEqual([purged.purged, purged.missing], [1, ["1-1"]]);
      assert.equal(purged.partitions[5].purged, 1);

      const sink = `${dir}/replayed.jsonl`;
      const again = await ingest("work", "--drain", "--sink", `file:${sink}`);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await deliveredUids(sink), [8], "the replayed entry is delivered");
      const all = JSON.parse((await ingest("dlq", "purge", "--all", "--yes", "--json")).stdout);
      assert.equal(all.purged, 1, "uid 10 was left");
    });

    await t.step(
      "work /status and /ready, metrics serve /status and /metrics per partition",
      async () => {
        const stream = freshStream("health");
        await spreadEmails(redis, stream, range(12));
        const port = freePort();
        const stop = new AbortController();
        const working = runIngest(
          ["work", "--sink", `file:${dir}/health.jsonl`, "--health-port", String(port)],
          { env: env(stream), signal: stop.signal },
        );
        const metricsPort = freePort();
        const serving = runIngest(["metrics", "serve", "--port", String(metricsPort)], {
          env: env(stream),
          signal: stop.signal,
        });
        try {
          await waitUntil(
            "all 12 delivered",
            async () => (await deliveredUids(`${dir}/health.jsonl`)).length === 12,
          );
          const base = `http://127.0.0.1:${port}`;
          await waitUntil("ready", async () =>
            (await fetch(`${base}/ready`).then(async (r) => {
              await r.body?.cancel();
              return r.status;
            })) === 200);
          const status = await (await fetch(`${base}/status`)).json();
          await assertMatchesSchema("work_status", status);
          assert.equal(status.worker.partitions.length, PARTITIONS);
          assert.equal(status.worker.counts.processed, 12);
          assert.deepEqual(
            status.worker.partitions.map((row: { counts: { processed: number } }) =>
              row.counts.processed
            ),
            [2, 2, 2, 2, 2, 2],
          );
          assert.equal(status.pipeline.partitions.length, PARTITIONS);
          await waitForPort(metricsPort);
          const served = await (await fetch(`http://127.0.0.1:${metricsPort}/status`)).json();
          await assertMatchesSchema("metrics_serve_status", served);
          assert.equal(served.stream.length, 12);
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          for (const partitionStream of partitionStreams(stream, PARTITIONS)) {
            assert.ok(
              text.includes(`email_ingestion_stream_depth{stream="${partitionStream}"} 2`),
              `stream_depth of ${partitionStream}`,
            );
          }
        } finally {
          stop.abort();
        }
        assert.equal((await working).code, 0);
        assert.equal((await serving).code, 0);
      },
    );

    await t.step("stream peek, group list and group delete cover every partition", async () => {
      const stream = freshStream("groups");
      // Apart in time: ids of different partitions order by time only (equal within a millisecond).
      for (const uid of range(12)) {
        await spreadEmails(redis, stream, [uid]);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      const ingest = (...args: string[]) => runIngest(args, { env: env(stream) });
      const peek = JSON.parse((await ingest("stream", "peek", "--count", "5", "--json")).stdout);
      await assertMatchesSchema("stream_peek", peek);
      assert.deepEqual(
        peek.entries.map((e: { payload: { uid: number } }) => e.payload.uid),
        [8, 9, 10, 11, 12],
        "the newest five over all partitions, oldest first",
      );
      assert.deepEqual(peek.entries.map((e: { partition: number }) => e.partition), [
        2,
        3,
        4,
        5,
        0,
      ]);
      const first = JSON.parse(
        (await ingest("stream", "peek", "--from", "-", "--count", "2", "--json")).stdout,
      );
      assert.deepEqual(first.entries.map((e: { payload: { uid: number } }) => e.payload.uid), [
        1,
        2,
      ]);
      for (const partitionStream of partitionStreams(stream, PARTITIONS)) {
        await redis.xgroup("CREATE", partitionStream, "old_workers", "0");
      }
      const listed = JSON.parse((await ingest("group", "list", "--json")).stdout);
      await assertMatchesSchema("group_list", listed);
      const old = listed.groups.find((g: { name: string }) => g.name === "old_workers");
      assert.equal(old.lag, 12, "the group's lag over the 6 partitions");
      const deleted = await ingest("group", "delete", "--group", "old_workers", "--yes", "--json");
      assert.equal(deleted.code, 0, deleted.stderr);
      await assertMatchesSchema("group_delete", JSON.parse(deleted.stdout));
      for (const partitionStream of partitionStreams(stream, PARTITIONS)) {
        assert.equal((await redis.xinfo("GROUPS", partitionStream) as unknown[]).length, 0);
      }
    });
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
