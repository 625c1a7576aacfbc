import assert from "node:assert/strict";
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

    assert.equal((await cluster.cli(["SET", "{k}a", "1"])).trim(), "OK");
    const owner = await cluster.masterOf("{k}a");
    // Let the write reach the replica before its master dies (replication is async).
    assert.equal((await cluster.cli(["WAIT", "1", "2000"], owner)).trim(), "1");
    const promoted = await cluster.killMaster(owner);
    assert.notEqual(promoted, owner);
    assert.equal(await cluster.masterOf("{k}a"), promoted);
    // Right after a promotion the nodes' views of the slots settle for a moment: ask through
    // the cluster (redis-cli -c follows MOVED) until the owner answers.
    let value = "";
    for (let i = 0; i < 100 && value !== "1"; i++) {
      value = (await cluster.cli(["GET", "{k}a"])).trim();
      if (value !== "1") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      value,
      "1",
      `the acknowledged write is missing after the failover: ${await cluster.cli([
        "CLUSTER",
        "NODES",
      ])}`,
    );
    assert.equal((await cluster.masters()).length, 3);

    await cluster.restart(owner);
    await cluster.waitOk();
    assert.ok(!(await cluster.masters()).includes(owner), "the old master rejoins as a replica");
  },
});
