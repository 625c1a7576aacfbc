import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { silentLogger } from "../log/logger.ts";
import { leaseKey } from "../redis/keys.ts";
import { LeaseBusyError } from "./follower_errors.ts";
import { MailboxLease } from "./lease.ts";
import { keepLease, leasePollMs, waitForLease } from "./lease_standby.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus } from "./mailbox_status.ts";

Deno.test("leasePollMs() asks a tenth of the TTL, between 100 ms and 1 s", () => {
  assert.equal(leasePollMs(1_000), 100);
  assert.equal(leasePollMs(5_000), 500);
  assert.equal(leasePollMs(30_000), 1_000);
});

Deno.test("waitForLease() stands by while another producer holds the lease, keepLease() notices a takeover", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  try {
    const ref = { account: "me@test", mailbox: "INBOX" };
    const report = new MailboxReport({
      ref,
      status: initialStatus(ref.account, ref.mailbox),
      observer: {},
      logger: silentLogger,
    });
    const holder = new MailboxLease(redis, ref, 10_000);
    const mine = new MailboxLease(redis, ref, 1_000);
    assert.equal(await holder.acquire(), true);
    const signal = new AbortController().signal;

    // --once gives up after 1.5 TTLs of standby.
    await assert.rejects(
      waitForLease(mine, { report, logger: silentLogger, once: true, signal }),
      LeaseBusyError,
    );
    assert.equal(report.status.state, "standby");
    assert.equal(report.status.leaseHeld, false);

    // Once the holder lets go, the standby takes over.
    const waiting = waitForLease(mine, { report, logger: silentLogger, once: false, signal });
    await holder.release();
    await waiting;
    assert.equal(report.status.leaseHeld, true);

    // A renewal that finds the lease taken reports it lost.
    const work = new AbortController();
    const lost = Promise.withResolvers<void>();
    const renewal = keepLease(mine, {
      logger: silentLogger,
      signal: work.signal,
      onLost: () => lost.resolve(),
    });
    try {
      await redis.set(leaseKey(ref), "someone-else", "PX", 5_000);
      await lost.promise;
    } finally {
      renewal.stop();
    }
  } finally {
    redis.disconnect();
  }
});
