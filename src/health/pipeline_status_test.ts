import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import type { RedisSnapshot } from "../metrics/redis_collector.ts";
import { wantsHealthServer } from "./health_wanted.ts";
import { exporterStatus } from "./pipeline_status.ts";

const SNAPSHOT: RedisSnapshot = {
  stream: {
    stream: "s",
    exists: true,
    length: 1,
    firstId: "1-0",
    lastId: "1-0",
    groups: [],
    dlq: { stream: "s:dlq", length: 0 },
    tail: [],
  },
  cursors: [{
    account: "a@example.test",
    mailbox: "INBOX",
    lastUid: 3,
    uidValidity: 9,
    lastPoll: null,
    totalEmails: 3,
  }],
  downloaded: new Map([["a@example.test", 1200]]),
  takenAt: 0,
};

Deno.test("exporterStatus() shows the stream view and cursors by label, never the address", () => {
  const status = exporterStatus(SNAPSHOT, () => "acct-1");
  assert.equal(status.stream.first_id, "1-0");
  assert.deepEqual(status.mailboxes[0], {
    account: "acct-1",
    mailbox: "INBOX",
    partition: null,
    last_uid: 3,
    uidvalidity: 9,
    last_poll: null,
    total_emails: 3,
    backfill: null,
  });
  assert.deepEqual(status.downloaded_last_24h_bytes, { "acct-1": 1200 });
  assert.doesNotMatch(JSON.stringify(status), /example\.test/);
});

Deno.test("wantsHealthServer(): long runs serve unless port 0; one-shot runs only with --health-port", () => {
  const on = loadConfig();
  const off = loadConfig({ env: { HEALTH_PORT: "0" } });
  assert.equal(wantsHealthServer(on, { oneShot: false, portFlagGiven: false }), true);
  assert.equal(wantsHealthServer(on, { oneShot: true, portFlagGiven: false }), false);
  assert.equal(wantsHealthServer(on, { oneShot: true, portFlagGiven: true }), true);
  assert.equal(wantsHealthServer(off, { oneShot: false, portFlagGiven: true }), false);
});
