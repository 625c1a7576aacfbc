import assert from "node:assert/strict";
import { cursorTotals, cursorView } from "./cursor_view.ts";

const CURSOR = {
  account: "a@example.test",
  mailbox: "INBOX",
  lastUid: 12,
  uidValidity: 7,
  lastPoll: "2026-01-01T00:00:00.000Z",
  totalEmails: 12,
};

Deno.test("cursorView() uses the seed's snake_case key names", () => {
  assert.deepEqual(cursorView(CURSOR), {
    account: "a@example.test",
    mailbox: "INBOX",
    partition: null,
    last_uid: 12,
    uidvalidity: 7,
    last_poll: "2026-01-01T00:00:00.000Z",
    total_emails: 12,
    backfill: null,
  });
});

Deno.test("cursorView() shows a label instead of the address when given one", () => {
  assert.equal(cursorView(CURSOR, "acct-1").account, "acct-1");
});

Deno.test("cursorTotals() sums every cursor and gives every partition a row, empty ones too", () => {
  const cursors = [
    { ...CURSOR, partition: 2, totalEmails: 5 },
    { ...CURSOR, mailbox: "Sent", partition: 2, totalEmails: 1 },
    { ...CURSOR, account: "b@example.test", partition: 0, totalEmails: 4 },
  ];
  assert.deepEqual(cursorTotals(cursors, 3), {
    totals: { mailboxes: 3, total_emails: 10 },
    partitions: [
      { partition: 0, mailboxes: 1, total_emails: 4 },
      { partition: 1, mailboxes: 0, total_emails: 0 },
      { partition: 2, mailboxes: 2, total_emails: 6 },
    ],
  });
  assert.deepEqual(cursorTotals([CURSOR], 1).partitions, [
    { partition: null, mailboxes: 1, total_emails: 12 },
  ]);
  assert.equal(cursorView({ ...CURSOR, partition: 4 }).partition, 4);
});

Deno.test("cursorView() shows a running backfill with what it still has to cover", () => {
  const view = cursorView({
    ...CURSOR,
    backfill: {
      uidValidity: 7,
      floorUid: 0,
      snapshotUid: 5000,
      doneUid: 1200,
      state: "running",
      published: 1200,
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: null,
    },
  });
  assert.equal(view.backfill?.remaining_uids, 3800);
  assert.equal(view.backfill?.state, "running");
});
