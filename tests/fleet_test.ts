/**
 * `ingest produce --fleet` against a real Dovecot with 51 password users and
 * a real Redis: three processes split the registry within one of fair, every
 * message lands in the stream exactly once through a SIGKILL (takeover within
 * the lease TTL) and a SIGTERM (hand-over in under 2 s), an account added
 * while running is picked up and a removed one stops.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { numberedUsers, startDovecot } from "./harness/dovecot.ts";
import {
  fleetMessage,
  FleetProcess,
  ownersOf,
  randomTokenKey,
  registerAccounts,
  until,
} from "./harness/fleet.ts";
import { REGISTRY_KEY, REGISTRY_VERSION_KEY } from "../src/accounts/registry.ts";
import { runIngest } from "./harness/cli.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { freePort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";

const LEASE_TTL_S = 3;
const ACCOUNTS = 50;

/** Entries per idempotency key; fails when any key is there twice. */
async function streamKeys(redis: Redis, stream: string): Promise<Map<string, number>> {
  const entries = await redis.xrange(stream, "-", "+");
  const keys = new Map<string, number>();
  for (const [, fields] of entries) {
    const i = fields.indexOf("idempotency_key");
    const key = fields[i + 1]!;
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }
  return keys;
}

async function assertExactlyOnce(redis: Redis, stream: string, expected: number): Promise<void> {
  await until(
    `${expected} entries in the stream`,
    async () => {
      return await redis.xlen(stream) >= expected;
    },
    60_000,
    200,
  );
  // A little longer: a duplicate would show up now.
  await new Promise((r) => setTimeout(r, 500));
  const keys = await streamKeys(redis, stream);
  const doubled = [...keys].filter(([, n]) => n > 1);
  assert.deepEqual(doubled, [], "no message twice");
  assert.equal(await redis.xlen(stream), expected);
}

function countByOwner(owners: Map<string, string | null>): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const owner of owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

Deno.test({
  name:
    "three produce --fleet processes share 50 accounts, survive SIGKILL and SIGTERM, follow the registry",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const users = numberedUsers(ACCOUNTS + 1);
    const initial = users.slice(0, ACCOUNTS);
    const late = users[ACCOUNTS]!;
    await using redisServer = await startRedis();
    await using dovecot = await startDovecot({ users });
    const redis = new Redis(redisServer.url, { lazyConnect: false });
    const stream = `fleet-${crypto.randomUUID().slice(0, 8)}`;
    const tokenKey = randomTokenKey();
    const env = {
      IMAP_HOST: "127.0.0.1",
      IMAP_PORT: String(dovecot.port),
      IMAP_TLS: "false",
      REDIS_URL: redisServer.url,
      REDIS_STREAM_NAME: stream,
      INGEST_TOKEN_KEY: tokenKey,
      LOG_LEVEL: "info",
    };
    let n = 0;
    for (const u of users) {
      for (let i = 0; i < 2; i++) await dovecot.append(u.user, "INBOX", fleetMessage(u.user, n++));
    }
    await registerAccounts(redis, initial, tokenKey);
    const args = ["--lease-ttl", String(LEASE_TTL_S)];
    const healthPort = freePort();
    const processes = [0, 1, 2].map((i) =>
      new FleetProcess(i === 2 ? [...args, "--health-port", String(healthPort)] : args, env)
    );
    const accounts = initial.map((u) => u.user);
    try {
      await t.step("every account's mail is in the stream exactly once", async () => {
        await assertExactlyOnce(redis, stream, ACCOUNTS * 2);
      });

      await t.step("the registry is split within ±1 of fair", async () => {
        await until(
          "every account owned, 16 or 17 each",
          async () => {
            const counts = countByOwner(await ownersOf(redis, accounts));
            return !counts.has(null) && counts.size === 3 &&
              [...counts.values()].every((c) => c === 16 || c === 17);
          },
          30_000,
          200,
        );
      });

      await t.step("stream inspect shows the processes and the accounts each owns", async () => {
        const inspected = await runIngest(["stream", "inspect", "--json"], { env });
        assert.equal(inspected.code, 0, inspected.stderr);
        const view = JSON.parse(inspected.stdout);
        await assertMatchesSchema("stream_inspect", view);
        assert.equal(view.fleet.accounts, ACCOUNTS);
        assert.equal(view.fleet.processes.length, 3);
        const owners = countByOwner(await ownersOf(redis, accounts));
        for (const p of view.fleet.processes) assert.equal(p.accounts, owners.get(p.process_id));
        assert.equal(view.fleet.states.unassigned, 0);
        const text = await runIngest(["stream", "inspect"], { env });
        assert.match(text.stdout, /Fleet {4}50 accounts/);
      });

      const killed = processes[0]!;
      const killedId = killed.processId();
      assert.ok(killedId, "the process announced its id");
      await t.step("SIGKILL: the others own its accounts within the lease TTL", async () => {
        const before = await ownersOf(redis, accounts);
        const orphans = accounts.filter((a) => before.get(a) === killedId);
        assert.ok(orphans.length >= 16);
        const killedAt = Date.now();
        await killed.stop("SIGKILL");
        await until(
          "orphans owned by live processes",
          async () => {
            const now = await ownersOf(redis, orphans);
            return [...now.values()].every((o) => o !== null && o !== killedId);
          },
          20_000,
          50,
        );
        const tookMs = Date.now() - killedAt;
        console.log(`takeover after SIGKILL: ${tookMs} ms (lease TTL ${LEASE_TTL_S * 1000} ms)`);
        // Leases live one tick less than the TTL; a survivor's next tick claims them.
        // (+300 ms: this test's own polling and a tick's Redis round trips.)
        assert.ok(tookMs < LEASE_TTL_S * 1000 + 300, `took ${tookMs} ms`);
      });

      await t.step("accounts list --json shows every account owned by a live process", async () => {
        const listed = await runIngest(["accounts", "list", "--json"], { env });
        assert.equal(listed.code, 0, listed.stderr);
        const rows: { owner: string | null; state: string }[] = JSON.parse(listed.stdout).accounts;
        assert.equal(rows.length, ACCOUNTS);
        assert.ok(rows.every((r) => r.owner !== null && r.owner !== killedId), listed.stdout);
        assert.ok(rows.every((r) => r.state !== "unassigned"));
      });

      await t.step(
        "mail appended to every account after the kill arrives exactly once",
        async () => {
          for (const a of accounts) await dovecot.append(a, "INBOX", fleetMessage(a, n++));
          await assertExactlyOnce(redis, stream, ACCOUNTS * 3);
        },
      );

      const drained = processes[1]!;
      const drainedId = drained.processId();
      await t.step("SIGTERM hands every account over in under 2 s", async () => {
        const before = await ownersOf(redis, accounts);
        const handed = accounts.filter((a) => before.get(a) === drainedId);
        assert.ok(handed.length >= 16);
        const sentAt = Date.now();
        drained.child.kill("SIGTERM");
        await until(
          "handed accounts owned by the last process",
          async () => {
            const now = await ownersOf(redis, handed);
            return [...now.values()].every((o) => o !== null && o !== drainedId);
          },
          10_000,
          20,
        );
        const tookMs = Date.now() - sentAt;
        console.log(`hand-over after SIGTERM: ${tookMs} ms for ${handed.length} accounts`);
        assert.ok(tookMs < 2_000, `took ${tookMs} ms`);
        assert.equal(await drained.stop(), 0, drained.stderr.slice(-2000));
      });

      await t.step(
        "an account added while running (ingest accounts add) is picked up",
        async () => {
          const added = await runIngest(
            ["accounts", "add", "--account", late.user, "--auth", "password", "--password-stdin"],
            { env, stdinLines: [late.password] },
          );
          assert.equal(added.code, 0, added.stderr);
          await assertExactlyOnce(redis, stream, ACCOUNTS * 3 + 2);
          const owner = (await ownersOf(redis, [late.user])).get(late.user);
          assert.equal(owner, processes[2]!.processId());
        },
      );

      await t.step(
        "a removed account stops: its lease goes, its new mail is not read",
        async () => {
          const removed = accounts[0]!;
          const result = await runIngest(["accounts", "remove", "--account", removed, "--yes"], {
            env,
          });
          assert.equal(result.code, 0, result.stderr);
          await until(
            "removed account unowned",
            async () => {
              return (await ownersOf(redis, [removed])).get(removed) === null;
            },
            10_000,
            100,
          );
          await dovecot.append(removed, "INBOX", fleetMessage(removed, n++));
          await dovecot.append(accounts[1]!, "INBOX", fleetMessage(accounts[1]!, n++));
          await assertExactlyOnce(redis, stream, ACCOUNTS * 3 + 3);
          await new Promise((r) => setTimeout(r, 2_000));
          assert.equal(
            await redis.xlen(stream),
            ACCOUNTS * 3 + 3,
            "nothing from the removed account",
          );
        },
      );
      await t.step("a refused password parks only that account; --update resumes it", async () => {
        const update = (password: string) =>
          runIngest(
            ["accounts", "add", "--account", late.user, "--update", "--password-stdin"],
            { env, stdinLines: [password] },
          );
        const wrong = await update("not-the-password");
        assert.equal(wrong.code, 0, wrong.stderr);
        await until(
          "the account in needs_reauth",
          async () => {
            const listed = await runIngest(["accounts", "list", "--json"], { env });
            const rows: { account: string; state: string }[] = JSON.parse(listed.stdout).accounts;
            return rows.find((r) => r.account === late.user)?.state === "needs_reauth";
          },
          20_000,
          250,
        );
        await dovecot.append(late.user, "INBOX", fleetMessage(late.user, n++));
        await dovecot.append(accounts[2]!, "INBOX", fleetMessage(accounts[2]!, n++));
        await assertExactlyOnce(redis, stream, ACCOUNTS * 3 + 4);
        const right = await update(late.password);
        assert.equal(right.code, 0, right.stderr);
        await assertExactlyOnce(redis, stream, ACCOUNTS * 3 + 5);
      });

      await t.step("an unreadable registry record does not stop the fleet", async () => {
        await redis.hset(REGISTRY_KEY, "broken@fleet.test", "not json");
        await redis.incr(REGISTRY_VERSION_KEY);
        // Longer than the lease TTL: leases renewed, ticks going through (/ready), mail flowing.
        await new Promise((r) => setTimeout(r, LEASE_TTL_S * 1000 + 1_000));
        const ready = await fetch(`http://127.0.0.1:${healthPort}/ready`);
        await ready.body?.cancel();
        assert.equal(ready.status, 200);
        const owners = await ownersOf(redis, accounts.slice(1));
        assert.ok([...owners.values()].every((o) => o === processes[2]!.processId()));
        await dovecot.append(accounts[3]!, "INBOX", fleetMessage(accounts[3]!, n++));
        await assertExactlyOnce(redis, stream, ACCOUNTS * 3 + 6);
        await redis.hdel(REGISTRY_KEY, "broken@fleet.test");
        await redis.incr(REGISTRY_VERSION_KEY);
      });

      await t.step(
        "/status of a fleet process lists its accounts by label, per the schema",
        async () => {
          const response = await fetch(`http://127.0.0.1:${healthPort}/status`);
          const status = await response.json();
          await assertMatchesSchema("produce_status", status);
          const fleet = status.fleet;
          assert.equal(fleet.process_id, processes[2]!.processId());
          assert.equal(fleet.live_processes, 1);
          assert.deepEqual(
            fleet.processes.map((p: { accounts: number }) => p.accounts),
            [ACCOUNTS],
          );
          assert.equal(fleet.registered_accounts, ACCOUNTS);
          assert.equal(fleet.accounts.length, ACCOUNTS);
          assert.ok(
            fleet.accounts.every((a: { account: string }) => a.account.startsWith("acct-")),
          );
          assert.ok(!JSON.stringify(status).includes("@fleet.test"), "no address in /status");
          assert.ok(fleet.accounts.some((a: { state: string }) => a.state === "idle"));
          const ready = await fetch(`http://127.0.0.1:${healthPort}/ready`);
          await ready.body?.cancel();
          assert.equal(ready.status, 200);
          const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
          assert.ok(!metrics.includes("@fleet.test"), "no address in /metrics");
          assert.match(metrics, /email_ingestion_emails_produced_total\{account="acct-/);
        },
      );
    } finally {
      for (const p of processes) await p.stop();
      redis.disconnect();
    }
  },
});
