/**
 * Many new accounts in one process: their history backfills share one
 * BackfillScheduler and take turns, so each moves while the others do (issue
 * 15 point 4), against a real Dovecot with three users and a real Redis. The
 * new mailboxes of one account share its one history connection, so the
 * account stays within Gmail's connection limit.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { silentLogger } from "../src/log/logger.ts";
import { BackfillScheduler } from "../src/producer/backfill_scheduler.ts";
import { startProducer } from "../src/producer/producer.ts";
import { readBackfill } from "../src/state/backfill.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

const USERS = ["ann@example.test", "bob@example.test", "cid@example.test"];
const HISTORY = 1500;

function* history(user: string): Iterable<Uint8Array> {
  for (let i = 0; i < HISTORY; i++) {
    yield new TextEncoder().encode(
      `From: s@example.test\r\nTo: ${user}\r\nSubject: old ${i}\r\n` +
        `Message-ID: <${i}.${user}>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nbody ${i}\r\n`,
    );
  }
}

Deno.test("three new accounts in one process backfill side by side, taking turns", async () => {
  await using dovecot = await startDovecot({
    users: USERS.map((user) => ({ user, password: "secret" })),
  });
  await using server = await startRedis();
  const redis = new Redis(server.url);
  const stop = new AbortController();
  const scheduler = new BackfillScheduler({ slots: 1 });
  try {
    for (const user of USERS) await dovecot.seedMaildir(user, "INBOX", history(user));
    const stream = `fair-${crypto.randomUUID().slice(0, 8)}`;
    const producers = USERS.map((user) =>
      startProducer({
        config: loadConfig({
          env: { ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream, user }) },
        }),
        account: user,
        credentials: passwordCredentials(user, "secret"),
        redis,
        logger: silentLogger,
        signal: stop.signal,
        backfillScheduler: scheduler,
      })
    );
    const progress = () =>
      Promise.all(
        USERS.map(async (account) =>
          (await readBackfill(redis, { account, mailbox: "INBOX" }))?.doneUid ?? 0
        ),
      );
    // When the first account is done, the others are well on their way, not waiting.
    let atFirstDone: number[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const done = await progress();
      if (done.some((uid) => uid >= HISTORY)) {
        atFirstDone = done;
        break;
      }
      assert.ok(Date.now() < deadline, `backfills at ${done.join(", ")} after 60 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    console.log(`when the first backfill finished, the three stood at ${atFirstDone.join(", ")}`);
    // Turns not shared (one backfill after another, e.g. a scheduler granting the lane that just
    // gave its turn back) leave the others at 0-250 (one chunk) here. Shared turns still leave
    // them uneven: a lane fetches at most one chunk ahead of its commits, so one whose commits
    // run slower asks for fewer turns; on a loaded machine (two CPU hogs beside the test) they
    // stood at 850-1350 of 1500.
    for (const uid of atFirstDone) {
      assert.ok(uid >= HISTORY * 0.4, `one backfill at ${uid}/${HISTORY}: turns were not shared`);
    }
    while ((await progress()).some((uid) => uid < HISTORY)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await redis.xlen(stream), HISTORY * USERS.length);
    stop.abort();
    for (const producer of producers) assert.equal((await producer.done).ok, true);
  } finally {
    stop.abort();
    redis.disconnect();
  }
});

Deno.test("three new mailboxes of one account backfill over one history connection", async () => {
  const user = USERS[0]!;
  const mailboxes = ["INBOX", "Archive", "Team"];
  await using dovecot = await startDovecot({ users: [{ user, password: "secret" }] });
  await using server = await startRedis();
  const redis = new Redis(server.url);
  const stop = new AbortController();
  try {
    for (const mailbox of mailboxes) await dovecot.seedMaildir(user, mailbox, history(user));
    await dovecot.kick(user); // the harness's own session, so only the producer's are counted
    const stream = `one-conn-${crypto.randomUUID().slice(0, 8)}`;
    const producer = startProducer({
      config: loadConfig({
        env: { ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream, user }) },
      }),
      account: user,
      mailboxes,
      credentials: passwordCredentials(user, "secret"),
      redis,
      logger: silentLogger,
      signal: stop.signal,
    });
    const done = async () => {
      const records = await Promise.all(
        mailboxes.map((mailbox) => readBackfill(redis, { account: user, mailbox })),
      );
      return records.every((r) => r !== null && r.state === "done");
    };
    let most = 0;
    const deadline = Date.now() + 60_000;
    while (!(await done())) {
      most = Math.max(most, await dovecot.sessions(user));
      assert.ok(Date.now() < deadline, "backfills not done after 60 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`at most ${most} IMAP sessions for ${mailboxes.length} mailboxes`);
    assert.ok(most <= mailboxes.length + 1, `${most} sessions: one per mailbox and one history`);
    assert.ok(most > mailboxes.length, "the history lane had its connection");
    assert.equal(await redis.xlen(stream), HISTORY * mailboxes.length);
    stop.abort();
    assert.equal((await producer.done).ok, true);
  } finally {
    stop.abort();
    redis.disconnect();
  }
});
