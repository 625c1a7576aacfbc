/**
 * `--events new,updated,deleted` on a real Dovecot (CONDSTORE, QRESYNC) and a
 * real redis-server: live flag changes and expunges, the same while the
 * producer is stopped (caught up after a restart, once), SIGKILL of the
 * producer process at random moments (nothing doubled or lost), a
 * UIDVALIDITY reset (one mailbox_reset, no deletions), and what a new user
 * sees: one read and one delete, written once by `ingest work --sink file:`.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { type Dovecot, startDovecot } from "./harness/dovecot.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER as USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

const EVENTS = ["--events", "new,updated,deleted"];

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Entry {
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

async function entries(redis: Redis, stream: string): Promise<Entry[]> {
  const rows = await redis.xrange(stream, "-", "+");
  return rows.map(([, fields]) => {
    const map: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!;
    return { type: map.type!, key: map.idempotency_key!, payload: JSON.parse(map.payload!) };
  });
}

function count(list: Entry[], type: string): number {
  return list.filter((e) => e.type === type).length;
}

/** Seeds `mailbox` with `n` messages; returns their UIDs. */
async function seed(dovecot: Dovecot, mailbox: string, n: number): Promise<number[]> {
  await dovecot.createMailbox(USER, mailbox);
  const uids: number[] = [];
  for (let i = 0; i < n; i++) {
    uids.push((await dovecot.append(USER, mailbox, await realisticMessage(i))).uid);
  }
  return uids;
}

/** Marks `seen` read and expunges `gone`, as a mail client would. */
async function readAndDelete(
  dovecot: Dovecot,
  mailbox: string,
  seen: number[],
  gone: number[],
): Promise<void> {
  const client = await dovecot.client(USER);
  try {
    await client.mailboxOpen(mailbox);
    if (seen.length > 0) await client.messageFlagsAdd(seen.join(","), ["\\Seen"], { uid: true });
    if (gone.length > 0) await client.messageDelete(gone.join(","), { uid: true });
  } finally {
    await client.logout();
  }
}

Deno.test("--events new,updated,deleted", async (t) => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const envFor = (stream: string, mailbox: string) => ({
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
    IMAP_MAILBOX: mailbox,
  });

  try {
    await t.step("live: 5 read and 3 expunged → 5 message_updated, 3 message_deleted", async () => {
      const stream = `events-live-${crypto.randomUUID()}`;
      const uids = await seed(dovecot, "Live", 12);
      const stop = new AbortController();
      const running = runIngest(["produce", ...EVENTS], {
        env: envFor(stream, "Live"),
        signal: stop.signal,
      });
      try {
        await waitFor("the initial sync", async () => (await redis.xlen(stream)) === 12);
        // Let the first change round lay the baseline, then IDLE.
        await new Promise((r) => setTimeout(r, 500));
        const started = performance.now();
        await readAndDelete(dovecot, "Live", uids.slice(0, 5), uids.slice(5, 8));
        const changed = performance.now();
        await waitFor("the events", async () => (await redis.xlen(stream)) >= 20, 10_000);
        console.log(
          `5 flag changes + 3 expunges → 8 entries: ${
            (performance.now() - changed).toFixed(0)
          } ms after the client finished (${
            (performance.now() - started).toFixed(0)
          } ms after it began)`,
        );
        await new Promise((r) => setTimeout(r, 1_000)); // nothing more arrives
      } finally {
        stop.abort();
      }
      const result = await running;
      assert.equal(result.code, 0, result.stderr);
      const list = await entries(redis, stream);
      assert.equal(count(list, "email"), 12);
      assert.equal(count(list, "message_updated"), 5);
      assert.equal(count(list, "message_deleted"), 3);
      const updated = list.filter((e) => e.type === "message_updated");
      assert.deepEqual(updated.map((e) => e.payload.uid), uids.slice(0, 5));
      for (const e of updated) {
        assert.deepEqual(e.payload.old_flags, []);
        assert.deepEqual(e.payload.new_flags, ["\\Seen"]);
        assert.match(String(e.payload.modseq), /^\d+$/);
        assert.equal(e.key, `${e.payload.email_key}:${e.payload.modseq}`);
        assert.match(String(e.payload.message_id), /^<.+>$/);
      }
      const deleted = list.filter((e) => e.type === "message_deleted");
      assert.deepEqual(deleted.map((e) => e.payload.uid), uids.slice(5, 8));
      assert.deepEqual(
        deleted.map((e) => e.key),
        deleted.map((e) => `${e.payload.email_key}:deleted`),
      );
    });

    await t.step(
      "changes made while the producer is stopped arrive after its restart, once",
      async () => {
        const stream = `events-restart-${crypto.randomUUID()}`;
        const uids = await seed(dovecot, "Restart", 12);
        const once = () =>
          runIngest(["produce", "--once", ...EVENTS], { env: envFor(stream, "Restart") });
        const first = await once();
        assert.equal(first.code, 0, first.stderr);
        assert.equal(await redis.xlen(stream), 12);
        await readAndDelete(dovecot, "Restart", uids.slice(0, 5), uids.slice(5, 8));
        const second = await once();
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stderr, /"msg":"change events committed".*"via":"qresync"/);
        const third = await once();
        assert.equal(third.code, 0, third.stderr);
        const list = await entries(redis, stream);
        assert.equal(count(list, "message_updated"), 5);
        assert.equal(count(list, "message_deleted"), 3);
        assert.equal(list.length, 20, "the third run added nothing");
      },
    );

    await t.step(
      "SIGKILL at random moments, then a restart: no event doubled or lost",
      async () => {
        const stream = `events-kill-${crypto.randomUUID()}`;
        const uids = await seed(dovecot, "Kill", 30);
        const env = envFor(stream, "Kill");
        const first = await runIngest(["produce", "--once", ...EVENTS], { env });
        assert.equal(first.code, 0, first.stderr);
        let expectedUpdates = 0;
        let expectedDeletes = 0;
        const lease = `producer_lease:${USER}:Kill`;
        const atKill: string[] = [];
        for (let round = 0; round < 5; round++) {
          // The killed producer's lease lapses (2 s), then the next one takes it and idles.
          await waitFor("the old lease to lapse", async () => (await redis.exists(lease)) === 0);
          const child = spawnIngest(["produce", ...EVENTS], {
            env: { ...env, PRODUCER_LEASE_TTL_SECONDS: "2" },
          });
          const output = child.output();
          await waitFor("the new lease", async () => (await redis.exists(lease)) === 1);
          await new Promise((r) => setTimeout(r, 300));
          // Two reads and one delete per round, on messages not touched before; the kill
          // lands before, during or after the change round that commits them (~0.5 s later).
          const base = round * 6;
          await readAndDelete(dovecot, "Kill", uids.slice(base, base + 2), [uids[base + 2]!]);
          expectedUpdates += 2;
          expectedDeletes += 1;
          await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
          try {
            child.kill("SIGKILL");
          } catch {
            const ended = await output;
            assert.fail(`the producer ended by itself: ${new TextDecoder().decode(ended.stderr)}`);
          }
          await output;
          atKill.push(`${(await redis.xlen(stream)) - 30}/${expectedUpdates + expectedDeletes}`);
        }
        console.log(
          `change entries committed / made when each SIGKILL landed: ${atKill.join(" ")}`,
        );
        // The last lease lapses, then a clean catch-up.
        await waitFor("the last lease to lapse", async () => (await redis.exists(lease)) === 0);
        const last = await runIngest(["produce", "--once", ...EVENTS], { env });
        assert.equal(last.code, 0, last.stderr);
        const list = await entries(redis, stream);
        const keys = list.map((e) => e.key);
        assert.equal(new Set(keys).size, keys.length, "an idempotency key appears twice");
        assert.equal(count(list, "email"), 30);
        assert.equal(count(list, "message_updated"), expectedUpdates);
        assert.equal(count(list, "message_deleted"), expectedDeletes);
      },
    );

    await t.step("a UIDVALIDITY reset writes one mailbox_reset and no deletions", async () => {
      const stream = `events-reset-${crypto.randomUUID()}`;
      await seed(dovecot, "Reset", 6);
      const env = envFor(stream, "Reset");
      assert.equal((await runIngest(["produce", "--once", ...EVENTS], { env })).code, 0);
      await dovecot.deleteMailbox(USER, "Reset");
      await seed(dovecot, "Reset", 6); // the same messages under a new UIDVALIDITY
      const again = await runIngest(["produce", "--once", ...EVENTS], { env });
      assert.equal(again.code, 0, again.stderr);
      const list = await entries(redis, stream);
      assert.equal(count(list, "mailbox_reset"), 1);
      assert.equal(count(list, "message_deleted"), 0);
      assert.equal(count(list, "message_updated"), 0);
      assert.equal(count(list, "email"), 6, "the same messages are not published again");
    });

    await t.step(
      "a new user: one read and one delete, written once by work --sink file:",
      async () => {
        const stream = `events-accept-${crypto.randomUUID()}`;
        const uids = await seed(dovecot, "Accept", 3);
        const env = envFor(stream, "Accept");
        assert.equal((await runIngest(["produce", "--once", ...EVENTS], { env })).code, 0);
        await readAndDelete(dovecot, "Accept", [uids[0]!], [uids[1]!]);
        assert.equal((await runIngest(["produce", "--once", ...EVENTS], { env })).code, 0);
        const dir = await Deno.makeTempDir();
        try {
          const out = `${dir}/out.jsonl`;
          for (let i = 0; i < 2; i++) {
            const work = await runIngest(["work", "--drain", "--sink", `file:${out}`], { env });
            assert.equal(work.code, 0, work.stderr);
          }
          const lines = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
          for (const line of lines) await assertMatchesSchema("sink_delivery.v1", line);
          for (const e of await entries(redis, stream)) {
            await assertMatchesSchema("stream_payload.v1", e.payload);
          }
          const inspect = await runIngest(["stream", "inspect", "--json"], { env });
          assert.equal(inspect.code, 0, inspect.stderr);
          const view = JSON.parse(inspect.stdout);
          await assertMatchesSchema("stream_inspect", view);
          assert.ok(view.entry_types.message_updated >= 1 && view.entry_types.message_deleted >= 1);
          const types = lines.map((l) => l.type);
          assert.deepEqual(types.filter((t) => t !== "email"), [
            "message_updated",
            "message_deleted",
          ]);
          assert.equal(types.length, 5);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  } finally {
    redis.disconnect();
  }
});

Deno.test("--events names what is wrong with it, exit 2", async () => {
  const env = pipelineEnv({ imapPort: 1, redisUrl: "redis://127.0.0.1:1" });
  const unknown = await runIngest(["produce", "--events", "new,flags"], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--events .*must list some of new, updated, deleted.*"new,flags"/);
  const withoutNew = await runIngest(["produce", "--once"], { env: { ...env, EVENTS: "updated" } });
  assert.equal(withoutNew.code, 2);
  assert.match(withoutNew.stderr, /EVENTS \(--events\) must include new/);
});

/**
 * A Dovecot offering only `capability`, a Redis, 10 messages seeded in
 * `mailbox`, and `once()`: a `produce --once` with every event type and
 * EVENTS_RESCAN_LIMIT=4 that must succeed (returns its log).
 */
async function limitedServer(capability: string, mailbox: string) {
  const dovecot = await startDovecot({ capability });
  const server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `events-${mailbox.toLowerCase()}-${crypto.randomUUID()}`;
  const uids = await seed(dovecot, mailbox, 10);
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
    IMAP_MAILBOX: mailbox,
    EVENTS_RESCAN_LIMIT: "4",
  };
  const once = async () => {
    const run = await runIngest(["produce", "--once", ...EVENTS], { env });
    assert.equal(run.code, 0, run.stderr);
    return run.stderr;
  };
  return {
    dovecot,
    redis,
    stream,
    uids,
    once,
    async [Symbol.asyncDispose]() {
      redis.disconnect();
      await server[Symbol.asyncDispose]();
      await dovecot[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a server without CONDSTORE: the newest EVENTS_RESCAN_LIMIT messages are re-scanned", async () => {
  await using s = await limitedServer(
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS",
    "Plain",
  );
  const { redis, uids } = s;
  await s.once();
  assert.equal(await redis.get(`producer_modseq:${USER}:Plain`), null, "no MODSEQ to keep");
  // uids[9] and uids[8] are among the newest 4; uids[0] is not, so its change goes unseen.
  await readAndDelete(s.dovecot, "Plain", [uids[9]!, uids[0]!], [uids[8]!]);
  assert.match(await s.once(), /"msg":"change events committed".*"via":"rescan"/);
  assert.doesNotMatch(await s.once(), /change events committed/);
  const list = await entries(redis, s.stream);
  const updated = list.filter((e) => e.type === "message_updated");
  assert.deepEqual(updated.map((e) => e.payload.uid), [uids[9]]);
  assert.equal(updated[0]!.payload.modseq, null);
  assert.equal(updated[0]!.key, `${updated[0]!.payload.email_key}:scan:1`);
  assert.deepEqual(list.filter((e) => e.type === "message_deleted").map((e) => e.payload.uid), [
    uids[8],
  ]);
  assert.equal(await redis.get(`producer_modseq:${USER}:Plain`), "scan:1");
});

Deno.test("a server with CONDSTORE but not QRESYNC: expunges found by UID SEARCH", async () => {
  await using s = await limitedServer(
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS CONDSTORE",
    "Cond",
  );
  const { redis, uids } = s;
  await s.once();
  assert.match(String(await redis.get(`producer_modseq:${USER}:Cond`)), /^\d+$/);
  // With MODSEQs there is no window: the oldest message's change is seen too.
  await readAndDelete(s.dovecot, "Cond", [uids[9]!, uids[0]!], [uids[8]!, uids[1]!]);
  assert.match(await s.once(), /"msg":"change events committed".*"via":"condstore"/);
  assert.doesNotMatch(await s.once(), /change events committed/);
  const list = await entries(redis, s.stream);
  assert.deepEqual(
    list.filter((e) => e.type === "message_updated").map((e) => e.payload.uid),
    [uids[0], uids[9]],
  );
  assert.deepEqual(
    list.filter((e) => e.type === "message_deleted").map((e) => e.payload.uid),
    [uids[1], uids[8]],
  );
});
