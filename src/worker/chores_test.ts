import assert from "node:assert/strict";
import { silentLogger } from "../log/logger.ts";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { addEmails, client, freshStream } from "../../tests/worker_fixtures.ts";
import { workerChores } from "./chores.ts";
import { type ClaimedEntry, ConsumerGroup } from "./consumer_group.ts";
import { groupKeys } from "./group_keys.ts";
import { InFlightEntries } from "./in_flight.ts";
import { emptyCounts } from "./worker_types.ts";

Deno.test("workerChores() reclaims others' stalled entries into the worker's hands, renews their leases, prunes", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("chores");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const crashed = new ConsumerGroup({ redis, keys, consumer: "crashed" });
    const group = new ConsumerGroup({ redis, keys, consumer: "me" });
    await group.ensure();
    const ids = await addEmails(redis, stream, [1, 2]);
    await crashed.readNew(2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started: ClaimedEntry[] = [];
    let clock = 1_000;
    const inFlight = new InFlightEntries({
      handle: (entries) => void started.push(...entries), // still running: never finished
      onFailed: () => {},
      onFinished: () => {},
      now: () => clock,
    });
    const counts = emptyCounts();
    const reclaimedEvents: number[] = [];
    const chores = workerChores({
      group,
      inFlight,
      free: () => 8,
      counts,
      observer: { reclaimed: (n) => reclaimedEvents.push(n) },
      logger: silentLogger,
      visibilityMs: 20,
      consumerIdleTimeoutMs: 0,
    });
    await chores.reclaimStalled(8);
    assert.deepEqual(started.map((e) => [e.id, e.deliveries]), [[ids[0], 2], [ids[1], 2]]);
    assert.equal(counts.reclaimed, 2);
    assert.deepEqual(reclaimedEvents, [2]);
    assert.deepEqual(inFlight.ids(), ids);
    clock += 20;
    assert.deepEqual(inFlight.leasesDue(clock, 20 / 3), ids);
    await chores.extendLeases(clock);
    assert.deepEqual(inFlight.leasesDue(clock, 20 / 3), [], "renewed");
    await redis.zadd(keys.processed, clock, "expired", clock + 1, "kept");
    await chores.prune(clock);
    assert.deepEqual(
      await redis.zrange(keys.processed, 0, -1),
      ["kept"],
      "expired processed-records are pruned",
    );
    const consumers = await redis.xinfo("CONSUMERS", stream, "g") as unknown[][];
    assert.deepEqual(
      consumers.map((c) => c[1]),
      ["me"],
      "the idle consumer without entries is gone",
    );
  } finally {
    redis.disconnect();
  }
});
