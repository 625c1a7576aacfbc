import assert from "node:assert/strict";
import { initialStatus, type MailboxStatus } from "../producer/mailbox_status.ts";
import { accountState, lastEventAt, parseAccountStatus } from "./account_status.ts";

function mailbox(patch: Partial<MailboxStatus>): MailboxStatus {
  return { ...initialStatus("a@example.test", "INBOX"), ...patch };
}

Deno.test("accountState() is idle only when every mailbox waits in IDLE", () => {
  assert.equal(accountState([mailbox({ state: "idle" }), mailbox({ state: "idle" })]), "idle");
  assert.equal(
    accountState([mailbox({ state: "idle" }), mailbox({ state: "connected" })]),
    "syncing",
  );
  assert.equal(accountState([]), "syncing");
});

Deno.test("accountState() puts needs_reauth before backing_off", () => {
  const parked = mailbox({ parked: true, state: "needs_reauth" });
  assert.equal(accountState([parked, mailbox({ state: "disconnected" })]), "needs_reauth");
  assert.equal(accountState([mailbox({ state: "disconnected" })]), "backing_off");
  const refused = mailbox({ state: "connected", redisRefusing: { kind: "oom", since: "x" } });
  assert.equal(accountState([refused]), "backing_off");
});

Deno.test("lastEventAt() takes the latest sync round or server activity", () => {
  const a = mailbox({ lastPollAt: "2026-12-01T10:00:00.000Z" });
  const b = mailbox({
    lastPollAt: null,
    connection: { lastHeardAt: "2026-12-01T10:00:05.000Z", outstanding: null },
  });
  assert.equal(lastEventAt([a, b]), "2026-12-01T10:00:05.000Z");
  assert.equal(lastEventAt([mailbox({})]), null);
});

Deno.test("parseAccountStatus() reads a record and treats anything else as unassigned", () => {
  assert.deepEqual(
    parseAccountStatus('{"state":"idle","last_event_at":"2026-12-01T10:00:00Z","owner":"p1"}'),
    { state: "idle", last_event_at: "2026-12-01T10:00:00Z", owner: "p1" },
  );
  const unassigned = { state: "unassigned", last_event_at: null, owner: null };
  assert.deepEqual(parseAccountStatus("not json"), unassigned);
  assert.deepEqual(parseAccountStatus('{"state":"flying"}'), unassigned);
});
