import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import type { RedisClient } from "../src/redis/client.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import {
  bandwidthHour,
  bandwidthKey,
  CURSOR_FIELDS,
  cursorKey,
  leaseKey,
  publishedIndexKey,
} from "../src/redis/keys.ts";
import { mailboxRef, partitionStream, partitionStreams } from "../src/redis/partitions.ts";
import { runIngest } from "./harness/cli.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";
import { startRedisCluster } from "./harness/redis_cluster.ts";
import { PARTITIONS, seededDovecot } from "./partition_fixtures.ts";

const ACCOUNTS = Array.from({ length: 5 }, (_, i) => `user${i}@example.test`);
const PER_ACCOUNT = 12;

async function emailKeys(redis: RedisClient, stream: string): Promise<string[]> {
  const rows = await redis.xrange(stream, "-", "+");
  return rows.filter(([, f]) => f[f.indexOf("type") + 1] === "email")
    .map(([, f]) => f[f.indexOf("idempotency_key") + 1]!);
}

Deno.test({
  name: "produce --once with STREAM_PARTITIONS=6 on a 3-master Redis Cluster",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using cluster = await startRedisCluster();
    await using dovecot = await seededDovecot(ACCOUNTS, PER_ACCOUNT);
    const stream = `cl-${crypto.randomUUID().slice(0, 8)}`;
    const clusterEnv = { REDIS_CLUSTER_NODES: cluster.seeds, STREAM_PARTITIONS: `${PARTITIONS}` };
    const env = (user: string, extra: Record<string, string> = {}) => ({
      ...pipelineEnv({
        imapPort: dovecot.port,
        user,
        password: "secret",
        stream,
        logLevel: "warn",
      }),
      ...clusterEnv,
      ...extra,
    });
    const config = loadConfig({ env: clusterEnv });
    const redis = await connectRedis(config.redis, { name: "t", logger: silentLogger });
    try {
      await t.step("every account's messages land once, in its partition's stream", async () => {
        for (const user of ACCOUNTS) {
          const result = await runIngest(["produce", "--once"], { env: env(user) });
          assert.equal(result.code, 0, result.stderr);
        }
        // Again: nothing new is published.
        const again = await runIngest(["produce", "--once"], { env: env(ACCOUNTS[0]!) });
        assert.equal(again.code, 0, again.stderr);
        const used = new Set<number>();
        let total = 0;
        for (const user of ACCOUNTS) {
          const { partition } = mailboxRef(user, "INBOX", PARTITIONS);
          used.add(partition!);
          const keys = (await emailKeys(redis, partitionStream(stream, partition)))
            .filter((key) => key.startsWith(`${user}:`));
          assert.equal(keys.length, PER_ACCOUNT, user);
          assert.equal(new Set(keys).size, PER_ACCOUNT, `${user}: no duplicates`);
        }
        for (const s of partitionStreams(stream, PARTITIONS)) {
          total += (await emailKeys(redis, s)).length;
        }
        assert.equal(total, ACCOUNTS.length * PER_ACCOUNT, "no entry outside its partition");
        assert.ok(used.size >= 2, `accounts spread over partitions: ${[...used]}`);
        assert.equal(await redis.exists(stream), 0, "no unpartitioned stream");
      });

      await t.step("the keys of one account are in one slot (CLUSTER KEYSLOT)", async () => {
        for (const user of ACCOUNTS) {
          const ref = mailboxRef(user, "INBOX", PARTITIONS);
          const keys = [
            partitionStream(stream, ref.partition),
            ...CURSOR_FIELDS.map((field) => cursorKey(ref, field)),
            leaseKey(ref),
            publishedIndexKey(ref),
            bandwidthKey(user, bandwidthHour(Date.now()), ref.partition),
          ];
          assert.equal(await redis.exists(cursorKey(ref, "last_uid")), 1);
          assert.equal(await redis.scard(publishedIndexKey(ref)), PER_ACCOUNT);
          const slots = await Promise.all(
            keys.map(async (key) => (await cluster.cli(["CLUSTER", "KEYSLOT", key])).trim()),
          );
          assert.equal(
            new Set(slots).size,
            1,
            `${user}: ${keys.map((k, i) => `${k}=${slots[i]}`)}`,
          );
        }
      });

      await t.step("state list --json: every partition's cursors, totals and rows", async () => {
        const result = await runIngest(["state", "list", "--json"], { env: env(ACCOUNTS[0]!) });
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout);
        await assertMatchesSchema("state_list", json);
        assert.equal(json.cursors.length, ACCOUNTS.length);
        assert.deepEqual(json.totals, {
          mailboxes: ACCOUNTS.length,
          total_emails: ACCOUNTS.length * PER_ACCOUNT,
        });
        assert.equal(json.partitions.length, PARTITIONS);
        const rowSum = json.partitions.reduce(
          (sum: number, row: { total_emails: number }) => sum + row.total_emails,
          0,
        );
        assert.equal(rowSum, ACCOUNTS.length * PER_ACCOUNT);

        const user = ACCOUNTS[1]!;
        const get = await runIngest(["state", "get", "--json"], { env: env(user) });
        assert.equal(get.code, 0, get.stderr);
        const one = JSON.parse(get.stdout);
        await assertMatchesSchema("state_get", one);
        assert.equal(one.cursors[0].partition, mailboxRef(user, "INBOX", PARTITIONS).partition);
        assert.equal(one.cursors[0].total_emails, PER_ACCOUNT);

        const reset = await runIngest(
          ["state", "reset", "--mailbox", "INBOX", "--to-uid", "5", "--yes", "--json"],
          { env: env(user) },
        );
        assert.equal(reset.code, 0, reset.stderr);
        const done = JSON.parse(reset.stdout);
        await assertMatchesSchema("state_reset", done);
        assert.equal(done.previous_last_uid, PER_ACCOUNT);
        assert.equal(done.partition, one.cursors[0].partition);
        const ref = mailboxRef(user, "INBOX", PARTITIONS);
        assert.equal(await redis.get(cursorKey(ref, "last_uid")), "5");
      });

      await t.step("another STREAM_PARTITIONS on the same stream is refused (exit 2)", async () => {
        const result = await runIngest(["produce", "--once"], {
          env: env(ACCOUNTS[0]!, { STREAM_PARTITIONS: "3" }),
        });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /STREAM_PARTITIONS is 3/);
        assert.match(result.stderr, /set up with 6 partition/);
      });
    } finally {
      await closeRedis(redis);
    }
  },
});
