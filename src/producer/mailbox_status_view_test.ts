import assert from "node:assert/strict";
import { initialStatus } from "./mailbox_status.ts";
import { mailboxStatusView } from "./mailbox_status_view.ts";

Deno.test("mailboxStatusView() shows every status field under a snake_case key", () => {
  const status = initialStatus("label-1", "INBOX");
  status.state = "idle";
  status.cursor = { lastUid: 12, uidValidity: 3 };
  status.lastPollAt = "2026-03-01T10:00:00.000Z";
  status.lastError = { message: "IMAP_CONNECTION: reset", at: "2026-03-01T09:59:00.000Z" };
  status.backlogPaused = true;
  status.backlogHeldBy = ["email_workers"];
  status.redisRefusing = { kind: "oom", since: "2026-03-01T09:58:00.000Z" };
  status.leaseHeld = true;
  status.published = 10;
  status.skipped = 2;
  status.backfill = { state: "paused", doneUid: 1200, snapshotUid: 5000 };
  status.connection = {
    lastHeardAt: "2026-03-01T10:00:01.000Z",
    outstanding: { command: "IDLE", since: "2026-03-01T10:00:00.500Z" },
  };
  assert.deepEqual(mailboxStatusView(status), {
    account: "label-1",
    mailbox: "INBOX",
    state: "idle",
    cursor: { last_uid: 12, uidvalidity: 3 },
    last_poll_at: "2026-03-01T10:00:00.000Z",
    last_error: { message: "IMAP_CONNECTION: reset", at: "2026-03-01T09:59:00.000Z" },
    parked: false,
    redis_refusing: { kind: "oom", since: "2026-03-01T09:58:00.000Z" },
    backlog_paused: true,
    backlog_held_by: ["email_workers"],
    lease_held: true,
    published: 10,
    skipped: 2,
    backfill: { state: "paused", done_uid: 1200, snapshot_uid: 5000 },
    connection: {
      last_heard_at: "2026-03-01T10:00:01.000Z",
      outstanding: { command: "IDLE", since: "2026-03-01T10:00:00.500Z" },
    },
  });
});

Deno.test("mailboxStatusView() keeps null for what is not known yet, and its JSON has no camelCase key", () => {
  const view = mailboxStatusView(initialStatus("label-1", "INBOX"));
  assert.equal(view.cursor, null);
  assert.equal(view.last_poll_at, null);
  assert.equal(view.last_error, null);
  assert.equal(view.connection, null);
  const keys = JSON.stringify(view).match(/"[^"]+":/g) ?? [];
  assert.ok(keys.length > 5);
  assert.deepEqual(keys.filter((key) => /[A-Z]/.test(key)), []);
});
