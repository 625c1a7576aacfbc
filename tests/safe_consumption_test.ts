import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { emailEntryFields } from "../src/stream/entry.ts";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import { emailPayload } from "./worker_fixtures.ts";

/** XINFO GROUPS of `stream` as name → [consumers, pending, lag]. */
async function groups(redis: Redis, stream: string): Promise<Record<string, number[]>> {
  const raw = (await redis.xinfo("GROUPS", stream)) as unknown[][];
  const out: Record<string, number[]> = {};
  for (const pairs of raw) {
    const info: Record<string, unknown> = {};
    for (let i = 0; i < pairs.length; i += 2) info[String(pairs[i])] = pairs[i + 1];
    out[String(info.name)] = [Number(info.consumers), Number(info.pending), Number(info.lag)];
  }
  return out;
}

Deno.test("safe consumption: no silent worker, read-only peek, group list/delete, orphaned groups", async (t) => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  const stream = "email_ingestion_stream";
  const env = { REDIS_URL: server.url };
  try {
    // Three emails from long ago (ids carry their time), for the default group.
    await redis.xgroup("CREATE", stream, "email_workers", "0", "MKSTREAM");
    for (const uid of [1, 2, 3]) {
      await redis.xadd(stream, `${1_000_000 + uid}-0`, ...emailEntryFields(emailPayload(uid)));
    }

    await t.step(
      "work without --sink or WORKER_SINK exits 2 naming both and reads nothing",
      async () => {
        const result = await runIngest(["work", "--drain"], { env });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /--sink SPEC or WORKER_SINK/);
        assert.match(result.stderr, /--sink file:emails\.jsonl/);
        assert.match(result.stderr, /ingest stream peek/);
        assert.deepEqual((await groups(redis, stream)).email_workers, [0, 0, 3]);
      },
    );

    await t.step(
      "stream peek shows payloads, newest N or --from, and touches no group",
      async () => {
        const json = await runIngest(["stream", "peek", "--count", "2", "--json"], { env });
        assert.equal(json.code, 0, json.stderr);
        const doc = JSON.parse(json.stdout);
        assert.deepEqual(doc.entries.map((e: { id: string }) => e.id), ["1000002-0", "1000003-0"]);
        assert.equal(doc.entries[0].type, "email");
        assert.equal(doc.entries[0].payload.uid, 2);
        assert.equal(doc.entries[0].problem, null);
        const text = await runIngest(["stream", "peek", "--from", "-", "--count", "1"], { env });
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^1000001-0 {2}type=email/);
        assert.match(text.stdout, /uid: 1\n/);
        const bad = await runIngest(["stream", "peek", "--count", "0", "--from", "x"], { env });
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--count/);
        assert.match(bad.stderr, /--from/);
        assert.deepEqual(await groups(redis, stream), { email_workers: [0, 0, 3] });
      },
    );

    await t.step(
      "a group without consumers holding old entries is orphaned in inspect and doctor",
      async () => {
        const inspect = await runIngest(["stream", "inspect", "--json"], { env });
        assert.equal(inspect.code, 0, inspect.stderr);
        const group = JSON.parse(inspect.stdout).groups[0];
        assert.equal(group.orphaned, true);
        assert.equal(group.idle_ms, null);
        const text = await runIngest(["stream", "inspect"], { env });
        assert.match(text.stdout, /Orphaned: group email_workers/);
        assert.match(text.stdout, /ingest group delete --group email_workers --yes/);
        const doctor = await runIngest(["doctor", "--json", "--timeout", "2"], {
          env: { ...env, IMAP_HOST: "127.0.0.1", IMAP_PORT: "1", IMAP_TLS: "false" },
        });
        const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
          c.name === "stream.groups"
        );
        assert.equal(check.status, "warn", doctor.stdout);
        assert.match(check.fix, /ingest group delete --group email_workers --yes/);
        assert.match(check.fix, /ingest work --group email_workers/);
      },
    );

    await t.step("a consumer that just read makes the group attended again", async () => {
      await redis.xreadgroup("GROUP", "email_workers", "w1", "COUNT", 1, "STREAMS", stream, ">");
      const inspect = await runIngest(["stream", "inspect", "--json"], { env });
      assert.equal(JSON.parse(inspect.stdout).groups[0].orphaned, false);
      const longAgo = await runIngest(["group", "list", "--json", "--orphan-after", "1"], { env });
      assert.equal(longAgo.code, 0, longAgo.stderr);
      assert.equal(JSON.parse(longAgo.stdout).groups[0].orphaned, false);
    });

    await t.step(
      "group list names the groups; group delete refuses without --yes off a terminal",
      async () => {
        await redis.xgroup("CREATE", stream, "typo_group", "0");
        const list = await runIngest(["group", "list", "--json"], { env });
        assert.equal(list.code, 0, list.stderr);
        const names = JSON.parse(list.stdout).groups.map((g: { name: string }) => g.name);
        assert.deepEqual(names.sort(), ["email_workers", "typo_group"]);
        const human = await runIngest(["group", "list"], { env });
        assert.match(human.stdout, /typo_group\s+0\s+0\s+3\s+-\s+yes/);

        const refused = await runIngest(["group", "delete", "--group", "email_workers"], { env });
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /Would delete group email_workers .* 1 pending/);
        assert.match(refused.stderr, /--yes/);
        assert.ok((await groups(redis, stream)).email_workers);

        const asked = await runIngest(["group", "delete", "--group", "typo_group"], {
          env,
          interactive: true,
          stdinLines: ["n"],
        });
        assert.equal(asked.code, 0);
        assert.match(asked.stderr, /Aborted/);
        assert.ok((await groups(redis, stream)).typo_group);
      },
    );

    await t.step(
      "group delete --yes removes only the group; an unknown group exits 1",
      async () => {
        const deleted = await runIngest([
          "group",
          "delete",
          "--group",
          "typo_group",
          "--yes",
          "--json",
        ], {
          env,
        });
        assert.equal(deleted.code, 0, deleted.stderr);
        assert.deepEqual(JSON.parse(deleted.stdout), {
          stream,
          group: "typo_group",
          deleted: true,
          pending: 0,
          consumers: 0,
        });
        assert.deepEqual(Object.keys(await groups(redis, stream)), ["email_workers"]);
        assert.equal(await redis.xlen(stream), 3, "the stream and its entries stay");
        const unknown = await runIngest(["group", "delete", "--group", "typo_group", "--yes"], {
          env,
        });
        assert.equal(unknown.code, 1);
        assert.match(
          unknown.stderr,
          /NOT_FOUND.*no consumer group "typo_group" \(groups: email_workers\)/,
        );
      },
    );
  } finally {
    redis.disconnect();
  }
});
