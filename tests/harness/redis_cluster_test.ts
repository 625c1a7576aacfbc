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
    // The promoted node serves the slot. Whether a write its replica acknowledged (WAIT 1)
    // survives is not asserted here: in 1 of 5 runs on this machine it was missing after
    // a failover that took several elections (configEpoch 2 -> 7), which is not understood
    // yet (issue 16's note). The application-level check of REDIS_WAIT_REPLICAS=1 is
    // tests/cluster_failover_test.ts. The outcome is printed so every run records it.
    let value = "";
    for (let i = 0; i < 100 && value !== "1"; i++) {
      value = (await cluster.cli(["GET", "{k}a"])).trim();
      if (value !== "1") await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      value === "1"
        ? "the WAIT-acknowledged write survived the failover"
        : `the WAIT-acknowledged write is missing after the failover:\n${await cluster.cli([
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
