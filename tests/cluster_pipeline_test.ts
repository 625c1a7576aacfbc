/**
 * The whole pipeline on a real Redis Cluster (3 masters + 3 replicas on
 * loopback) with STREAM_PARTITIONS=6, as issue 16's acceptance describes it:
 * 10 Dovecot accounts, the real CLI's `produce --once` for each, then two
 * `work --drain` processes at once into file sinks: every message once (by
 * Idempotency-Key), and `stream inspect --json` shows 6 partitions whose
 * lengths sum to the message count. Then a second wave of mail is produced
 * (`produce --once` rounds) and drained by two running workers while a master
 * is SIGKILLed: the sinks end with every message, and a message seen twice
 * only with the same Idempotency-Key.
 */

import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";
import { startRedisCluster } from "./harness/redis_cluster.ts";
import { mailboxRef, partitionStream } from "../src/redis/partitions.ts";
import { PARTITIONS, seededDovecot } from "./partition_fixtures.ts";
import { readJsonLines, waitUntil } from "./worker_fixtures.ts";

const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `acct${i}@example.test`);
const FIRST_WAVE = 10;
const ROUNDS = 6;
const KILL_ROUND = 2;

interface Delivery {
  message: string;
  key: string;
}

/** What the file sinks hold: one row per line, the message named by account and UID. */
async function deliveries(paths: string[]): Promise<Delivery[]> {
  const lines = (await Promise.all(paths.map(readJsonLines))).flat();
  return lines.map((line) => {
    const payload = line.payload as { account: string; uid: number };
    return { message: `${payload.account}#${payload.uid}`, key: String(line.idempotency_key) };
  });
}

/** The rows of messages after the first wave (UIDs above FIRST_WAVE). */
const secondWave = (rows: Delivery[]) =>
  rows.filter((r) => Number(r.message.split("#")[1]) > FIRST_WAVE);

/** Every expected message delivered, and each one only ever with one Idempotency-Key. */
function checkDeliveries(rows: Delivery[], perAccount: number): Map<string, string> {
  const keyOf = new Map<string, string>();
  for (const row of rows) {
    assert.equal(keyOf.get(row.message) ?? row.key, row.key, `${row.message} with two keys`);
    keyOf.set(row.message, row.key);
  }
  const expected = ACCOUNTS.flatMap((user) =>
    Array.from({ length: perAccount }, (_, i) => `${user}#${i + 1}`)
  ).sort();
  assert.deepEqual([...keyOf.keys()].sort(), expected, "every message of every account");
  assert.equal(new Set(keyOf.values()).size, expected.length, "one key per message");
  return keyOf;
}

Deno.test({
  name: "10 accounts → produce --once → 2 workers on a 3-master cluster, a master SIGKILLed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using cluster = await startRedisCluster();
    await using dovecot = await seededDovecot(ACCOUNTS, FIRST_WAVE);
    const stream = `e2e-${crypto.randomUUID().slice(0, 8)}`;
    const clusterEnv = {
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_STREAM_NAME: stream,
      STREAM_PARTITIONS: String(PARTITIONS),
      WORKER_BACKOFF_BASE_MS: "20",
      WORKER_BACKOFF_CAP_MS: "200",
      LOG_LEVEL: "error",
    };
    const producerEnv = (user: string) => ({
      ...pipelineEnv({ imapPort: dovecot.port, user, password: "secret", stream }),
      ...clusterEnv,
    });
    const produceAll = async () => {
      const codes = [];
      for (const user of ACCOUNTS) {
        codes.push((await runIngest(["produce", "--once"], { env: producerEnv(user) })).code);
      }
      return codes;
    };
    const dir = await Deno.makeTempDir({ prefix: "ingest-cluster-pipeline-" });
    try {
      await t.step("produce --once per account, 2 work --drain: every message once", async () => {
        for (const [i, code] of (await produceAll()).entries()) {
          assert.equal(code, 0, `produce --once for account ${i}`);
        }
        const sinks = [`${dir}/a.jsonl`, `${dir}/b.jsonl`];
        const runs = await Promise.all(
          sinks.map((sink, i) =>
            runIngest(["work", "--drain", "--sink", `file:${sink}`, "--consumer", `d${i}`], {
              env: clusterEnv,
            })
          ),
        );
        for (const run of runs) assert.equal(run.code, 0, run.stderr);
        const rows = await deliveries(sinks);
        checkDeliveries(rows, FIRST_WAVE);
        const total = ACCOUNTS.length * FIRST_WAVE;
        assert.equal(rows.length, total, "no message twice");
        const perSink = await Promise.all(sinks.map(async (s) => (await readJsonLines(s)).length));
        console.log(`first wave: ${total} messages, sinks got ${perSink.join(" + ")}`);

        const inspect = await runIngest(["stream", "inspect", "--json"], { env: clusterEnv });
        assert.equal(inspect.code, 0, inspect.stderr);
        const json = JSON.parse(inspect.stdout);
        assert.equal(json.partitions.length, PARTITIONS);
        const lengths = json.partitions.map((row: { length: number }) => row.length);
        assert.equal(lengths.reduce((a: number, b: number) => a + b, 0), total, `${lengths}`);
        assert.equal(json.length, total);
        const used = new Set(ACCOUNTS.map((u) => mailboxRef(u, "INBOX", PARTITIONS).partition));
        assert.equal(lengths.filter((n: number) => n > 0).length, used.size);
      });

      await t.step(
        "a master SIGKILLed while a second wave is produced and drained: nothing lost",
        async () => {
          const stop = new AbortController();
          const sinks = [`${dir}/fa.jsonl`, `${dir}/fb.jsonl`];
          const workers = sinks.map((sink, i) =>
            runIngest(["work", "--sink", `file:${sink}`, "--consumer", `f${i}`], {
              env: clusterEnv,
              signal: stop.signal,
            })
          );
          const victim = await cluster.masterOf(
            partitionStream(stream, mailboxRef(ACCOUNTS[0]!, "INBOX", PARTITIONS).partition),
          );
          const failed: number[] = [];
          let failover = "";
          try {
            for (let round = 0; round < ROUNDS; round++) {
              for (const [a, user] of ACCOUNTS.entries()) {
                await dovecot.append(
                  user,
                  "INBOX",
                  await realisticMessage(a * 100 + FIRST_WAVE + round),
                );
              }
              // The kill runs while this round's producers publish.
              const kill = round === KILL_ROUND
                ? cluster.killMaster(victim).then((p) => failover = `${victim} -> ${p}`)
                : Promise.resolve();
              const codes = await produceAll();
              await kill;
              failed.push(codes.filter((code) => code !== 0).length);
            }
            // Producers that failed during the failover read their mailbox again.
            await waitUntil(
              "a clean produce --once round",
              async () => (await produceAll()).every((code) => code === 0),
              60_000,
            );
            await waitUntil(
              "every second-wave message delivered",
              async () =>
                new Set(secondWave(await deliveries(sinks)).map((r) => r.message)).size ===
                  ACCOUNTS.length * ROUNDS,
              60_000,
            );
          } finally {
            stop.abort();
          }
          for (const run of await Promise.all(workers)) assert.equal(run.code, 0, run.stderr);
          assert.notEqual(failover, "", "a replica took over the killed master's slots");
          const rows = await deliveries(sinks);
          // The running workers see only the second wave (the first was acknowledged).
          const second = secondWave(rows);
          const keyOf = new Map<string, string>();
          for (const row of second) {
            assert.equal(keyOf.get(row.message) ?? row.key, row.key, `${row.message}: 2 keys`);
            keyOf.set(row.message, row.key);
          }
          const expected = ACCOUNTS.flatMap((user) =>
            Array.from({ length: ROUNDS }, (_, i) => `${user}#${FIRST_WAVE + i + 1}`)
          ).sort();
          assert.deepEqual([...keyOf.keys()].sort(), expected, "every second-wave message");
          console.log(
            `failover ${failover}; produce --once failures per round: ${failed.join(",")}; ` +
              `${rows.length} deliveries of ${expected.length} messages ` +
              `(${rows.length - second.length} first-wave again, ` +
              `${second.length - expected.length} duplicates with the same Idempotency-Key)`,
          );
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
