import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { createLogger, type Logger, silentLogger } from "../log/logger.ts";
import { bandwidthHour, bandwidthKey, cursorKey } from "../redis/keys.ts";
import { readCursor } from "../state/cursor.ts";
import { emailEntryFields } from "../stream/entry.ts";
import { ensureGroup } from "../stream/group.ts";
import { testEntry } from "./_test_entry.ts";
import { CursorMovedError, LeaseLostError } from "./follower_errors.ts";
import { MailboxLease } from "./lease.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus } from "./mailbox_status.ts";
import { RedisPublisher, type RedisPublisherSettings } from "./redis_publisher.ts";

const start = { kind: "all" as const, uid: () => Promise.resolve(0) };

async function setUp(
  redis: Redis,
  overrides: Partial<RedisPublisherSettings> = {},
  logger: Logger = silentLogger,
) {
  const ref = { account: `a-${crypto.randomUUID()}`, mailbox: "INBOX" };
  const events: string[] = [];
  const report = new MailboxReport({
    ref,
    status: initialStatus(ref.account, ref.mailbox),
    observer: {
      mailboxReset: () => events.push("reset"),
      published: (_ref, published, skipped) => events.push(`published ${published}/${skipped}`),
      backlogPaused: (_ref, paused) => events.push(`paused ${paused}`),
    },
    logger: silentLogger,
  });
  const settings = {
    stream: `s-${crypto.randomUUID()}`,
    maxStreamLength: 1_000,
    backlogLimit: 1_000,
    backlogCheckMs: 20,
    leaseTtlMs: 5_000,
    ...overrides,
  };
  const publisher = new RedisPublisher({ redis, ref, report, logger, settings });
  assert.equal(await publisher.lease.acquire(), true);
  return { ref, report, events, settings, publisher };
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("RedisPublisher", async (t) => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  try {
    await t.step("prepare() writes the start position, then resumes from it", async () => {
      const { ref, report, publisher } = await setUp(redis);
      assert.deepEqual(await publisher.prepare(7, start), { uidValidity: 7, lastUid: 0 });
      const cursor = await readCursor(redis, ref);
      assert.equal(cursor?.uidValidity, 7);
      assert.equal(cursor?.lastUid, 0);
      assert.deepEqual(report.status.cursor, { lastUid: 0, uidValidity: 7 });
      await redis.set(cursorKey(ref, "last_uid"), "12");
      assert.deepEqual(await publisher.prepare(7, start), { uidValidity: 7, lastUid: 12 });
    });

    await t.step(
      "prepare() after a UIDVALIDITY change writes a mailbox_reset entry and starts at 0",
      async () => {
        const { ref, events, settings, publisher } = await setUp(redis);
        await publisher.prepare(7, start);
        assert.deepEqual(await publisher.prepare(8, start), { uidValidity: 8, lastUid: 0 });
        const entries = await redis.xrange(settings.stream, "-", "+");
        assert.equal(entries.length, 1);
        const fields = entries[0]![1];
        assert.deepEqual(fields.slice(0, 4), [
          "type",
          "mailbox_reset",
          "idempotency_key",
          `${ref.account}:INBOX:reset:7:8`,
        ]);
        assert.equal(JSON.parse(fields[5]!).previous_uidvalidity, 7);
        assert.deepEqual(events, ["reset"]);
      },
    );

    await t.step(
      "publish() commits the entries as stream/entry.ts lays them out, with the cursor",
      async () => {
        const { ref, report, events, settings, publisher } = await setUp(redis);
        const position = await publisher.prepare(7, start);
        const entries = [1, 2, 3].map((uid) => testEntry(ref.account, uid, 7));
        const next = await publisher.publish(position, { lastUid: 4, entries }, 3_000);
        assert.deepEqual(next, { uidValidity: 7, lastUid: 4 });
        const stored = await redis.xrange(settings.stream, "-", "+");
        assert.deepEqual(stored.map(([, f]) => f), entries.map((e) => emailEntryFields(e.payload)));
        assert.equal((await readCursor(redis, ref))?.lastUid, 4);
        assert.equal(report.status.published, 3);
        assert.deepEqual(events, ["published 3/0"]);
        // Housekeeping runs in the background: the download is accounted for the account.
        const bandwidth = bandwidthKey(ref.account, bandwidthHour(Date.now()));
        await until("bandwidth accounting", async () => (await redis.get(bandwidth)) === "3000");
      },
    );

    await t.step(
      "publish() from a stale position fails with CursorMovedError and writes nothing",
      async () => {
        const { ref, settings, publisher } = await setUp(redis);
        const position = await publisher.prepare(7, start);
        await redis.set(cursorKey(ref, "last_uid"), "50"); // e.g. `ingest state reset --to-uid 50`
        const batch = { lastUid: 1, entries: [testEntry(ref.account, 1, 7)] };
        await assert.rejects(publisher.publish(position, batch, 0), CursorMovedError);
        assert.equal(await redis.exists(settings.stream), 0);
      },
    );

    await t.step(
      "a publisher whose lease was taken over cannot commit (LeaseLostError)",
      async () => {
        const { ref, publisher } = await setUp(redis, { leaseTtlMs: 1_000 });
        const position = await publisher.prepare(7, start);
        await publisher.lease.release();
        const other = new MailboxLease(redis, ref, 5_000);
        assert.equal(await other.acquire(), true);
        await assert.rejects(publisher.recordPoll(position), LeaseLostError);
        assert.equal((await readCursor(redis, ref))?.lastUid, 0);
      },
    );

    await t.step(
      "waitForRoom() pauses while the backlog is above the limit and resumes once it drains",
      async () => {
        const lines: string[] = [];
        const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
        const { report, events, settings, publisher } = await setUp(redis, {
          backlogLimit: 2,
        }, logger);
        await ensureGroup(redis, settings.stream, "g");
        for (let i = 0; i < 3; i++) await redis.xadd(settings.stream, "*", "n", String(i));
        // A second group that is caught up holds nothing back and is not named.
        await redis.xgroup("CREATE", settings.stream, "fast", "$");
        let pings = 0;
        const waiting = publisher.waitForRoom(() => {
          pings++;
          return Promise.resolve();
        }, new AbortController().signal);
        await until("the pause", () => report.status.backlogPaused);
        assert.deepEqual(report.status.backlogHeldBy, ["g"]);
        const pause = JSON.parse(lines.find((l) => l.includes("pausing fetch"))!);
        assert.deepEqual(pause.groups, ["g"]);
        assert.match(pause.msg ?? pause.message, /group\(s\) g catch up/);
        await redis.xgroup("SETID", settings.stream, "g", "$"); // the workers caught up
        await waiting;
        assert.equal(report.status.backlogPaused, false);
        assert.deepEqual(report.status.backlogHeldBy, []);
        assert.deepEqual(events, ["paused true", "paused false"]);
        assert.equal(pings, 0, "no IMAP ping within the first minute");
      },
    );
  } finally {
    redis.disconnect();
  }
});
