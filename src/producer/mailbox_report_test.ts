import assert from "node:assert/strict";
import { ImapError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus } from "./mailbox_status.ts";

const ref = { account: "me@test", mailbox: "INBOX" };

function report(observer = {}) {
  return new MailboxReport({
    ref,
    status: initialStatus(ref.account, ref.mailbox),
    observer,
    logger: silentLogger,
  });
}

Deno.test("MailboxReport reports connection states to the observer, but not standby or stopped", () => {
  const seen: string[] = [];
  const r = report({ connectionState: (_ref: unknown, state: string) => seen.push(state) });
  for (
    const state of ["connected", "idle", "idle", "standby", "stopped", "disconnected"] as const
  ) {
    r.setState(state);
  }
  assert.deepEqual(seen, ["connected", "idle", "disconnected"]);
  assert.equal(r.status.state, "disconnected");
});

Deno.test("MailboxReport.moved() reports a new cursor once, with the last total_emails", () => {
  const cursors: unknown[] = [];
  const r = report({ cursor: (_ref: unknown, cursor: unknown) => cursors.push(cursor) });
  r.moved({ uidValidity: 7, lastUid: 3 }, 3);
  r.moved({ uidValidity: 7, lastUid: 3 }, 3);
  r.moved({ uidValidity: 7, lastUid: 5 });
  assert.deepEqual(cursors, [
    { lastUid: 3, uidValidity: 7, total: 3 },
    { lastUid: 5, uidValidity: 7, total: 3 },
  ]);
  assert.deepEqual(r.status.cursor, { lastUid: 5, uidValidity: 7 });
});

Deno.test("MailboxReport records errors and lease changes, and survives a throwing hook", () => {
  const held: boolean[] = [];
  const r = report({
    leaseHeld: (_ref: unknown, value: boolean) => held.push(value),
    published: () => {
      throw new Error("a broken metrics hook");
    },
  });
  r.leaseChanged(true);
  r.leaseChanged(true);
  r.leaseChanged(false);
  assert.deepEqual(held, [true, false]);
  r.notify((o) => o.published?.(ref, 1, 0));
  r.recordError(new ImapError("IMAP_CONNECTION", "connection reset"));
  assert.match(r.status.lastError?.message ?? "", /connection reset/);
});
