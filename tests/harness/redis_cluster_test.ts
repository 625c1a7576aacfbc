import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedisCluster } from "./redis_cluster.ts";

Deno.test({
  name: "startRedisCluster() runs 3 masters + 3 replicas and survives a SIGKILLed master",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startRedisCluster();
    assert.equal(cluster.nodes.length, 6);
    assert.equal((await cluster.masters()).length, 3);
    assert.match(await cluster.cli(["CLUSTER", "INFO"]), /cluster_size:3/);

    const owner = await cluster.masterOf("{k}a");
    // WAIT counts the replicas that have the writes of its own connection: SET and WAIT
    // go over one connection to the key's master (a WAIT on a fresh connection has no
    // write to wait for and answers at once, which proves nothing).
    const direct = new Redis(owner, "127.0.0.1", { lazyConnect: true });
    await direct.connect();
    try {
      assert.equal(await direct.set("{k}a", "1"), "OK");
      assert.equal(await direct.wait(1, 2_000), 1);
    } finally {
      direct.disconnect();
    }
    const promoted = await cluster.killMaster(owner);
    assert.notEqual(promoted, owner);
    assert.equal(await cluster.masterOf("{k}a"), promoted);
    // The promoted replica had acknowledged the write: it serves it.
    assert.equal((await cluster.cli(["GET", "{k}a"], promoted)).trim(), "1");
    assert.equal((await cluster.masters()).length, 3);

    await cluster.restart(owner);
    await cluster.waitOk();
    assert.ok(!(await cluster.masters()).includes(owner), "the old master rejoins as a replica");
  },
});
