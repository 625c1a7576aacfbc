/**
 * `ingest produce --fleet` on a real Redis Cluster with STREAM_PARTITIONS=6:
 * two processes share the registry, each account's mail lands once in its
 * own partition stream, and a SIGKILLed process's accounts are taken over
 * (their leases and status live in the fleet's slot, the commits in the
 * account's).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { mailboxRef, partitionStream } from "../src/redis/partitions.ts";
import { numberedUsers, startDovecot } from "./harness/dovecot.ts";
import {
  fleetMessage,
  FleetProcess,
  ownersOf,
  randomTokenKey,
  registerAccounts,
  until,
} from "./harness/fleet.ts";
import { startRedisCluster } from "./harness/redis_cluster.ts";
import { partitionEmails, PARTITIONS } from "./partition_fixtures.ts";

const ACCOUNTS = 8;

Deno.test({
  name: "produce --fleet on a Redis Cluster: two processes, 6 partitions, a SIGKILL taken over",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const users = numberedUsers(ACCOUNTS);
    await using cluster = await startRedisCluster();
    await using dovecot = await startDovecot({ users });
    const stream = `fleet-cluster-${crypto.randomUUID().slice(0, 8)}`;
    const tokenKey = randomTokenKey();
    const env = {
      IMAP_HOST: "127.0.0.1",
      IMAP_PORT: String(dovecot.port),
      IMAP_TLS: "false",
      REDIS_CLUSTER_NODES: cluster.seeds,
      STREAM_PARTITIONS: String(PARTITIONS),
      REDIS_STREAM_NAME: stream,
      INGEST_TOKEN_KEY: tokenKey,
      LOG_LEVEL: "info",
    };
    const redis = await connectRedis(loadConfig({ env }).redis, {
      name: "t",
      logger: silentLogger,
    });
    let n = 0;
    for (const u of users) {
      for (let i = 0; i < 2; i++) await dovecot.append(u.user, "INBOX", fleetMessage(u.user, n++));
    }
    await registerAccounts(redis, users, tokenKey);
    const processes = [0, 1].map(() => new FleetProcess(["--lease-ttl", "3"], env));
    const accounts = users.map((u) => u.user);
    const keysSeen = async () => (await partitionEmails(redis, stream)).map((row) => row.key);
    try {
      await until(
        "every message in the partition streams",
        async () => new Set(await keysSeen()).size === n,
        60_000,
        200,
      );
      const [first, second] = processes.map((p) => p.processId());
      assert.ok(first && second, "both processes announced their id");
      // A process alone at first may hold everything until the other joins and it hands over.
      const split = async () => {
        const owners = [...(await ownersOf(redis, accounts)).values()];
        return [first, second].map((id) => owners.filter((o) => o === id).length).sort();
      };
      await until("an even split", async () => (await split()).join() === "4,4", 20_000);

      const killed = await processes[0]!.stop("SIGKILL");
      assert.notEqual(killed, 0);
      await until(
        "the survivor to own every account",
        async () => [...(await ownersOf(redis, accounts)).values()].every((o) => o === second),
        20_000,
      );
      for (const u of users) await dovecot.append(u.user, "INBOX", fleetMessage(u.user, n++));
      await until("the new messages", async () => new Set(await keysSeen()).size === n, 30_000);

      const rows = await partitionEmails(redis, stream);
      assert.equal(rows.length, n, "no message twice");
      for (const user of accounts) {
        const home = partitionStream(stream, mailboxRef(user, "INBOX", PARTITIONS).partition);
        const mine = rows.filter((row) => row.key.startsWith(`${user}:`));
        assert.equal(mine.length, 3, user);
        assert.ok(mine.every((row) => row.stream === home), `${user}: only in its partition`);
      }
    } catch (error) {
      throw new Error(`${error}\n${processes.map((p) => p.stderr.slice(-2_000)).join("\n---\n")}`);
    } finally {
      for (const p of processes) await p.stop();
      await closeRedis(redis);
    }
  },
});
