import assert from "node:assert/strict";
import { initialStatus, type MailboxStatus } from "./mailbox_status.ts";
import { mailboxCheck } from "./readiness.ts";

const BOUNDS = { commandTimeoutMs: 30_000, idleCheckMs: 120_000, once: false };
const NOW = 1_000_000_000;

function status(patch: Partial<MailboxStatus>): MailboxStatus {
  return { ...initialStatus("a@example.test", "INBOX"), ...patch };
}

Deno.test("mailboxCheck: connected, idling and standing by are ready", () => {
  const quiet = { lastHeardAt: NOW - 1_000, outstanding: undefined, dead: false };
  for (const state of ["connected", "idle", "standby"] as const) {
    assert.equal(mailboxCheck(status({ state }), quiet, BOUNDS, NOW).ok, true, state);
  }
});

Deno.test("mailboxCheck: not connected, parked, or stopped in a long run is not ready", () => {
  for (const state of ["connecting", "disconnected"] as const) {
    const check = mailboxCheck(status({ state }), undefined, BOUNDS, NOW);
    assert.equal(check.ok, false);
    assert.match(check.reason!, /not connected/);
  }
  assert.match(
    mailboxCheck(status({ state: "needs_reauth", parked: true }), undefined, BOUNDS, NOW).reason!,
    /ingest auth setup/,
  );
  assert.equal(mailboxCheck(status({ state: "stopped" }), undefined, BOUNDS, NOW).ok, false);
  assert.equal(
    mailboxCheck(status({ state: "stopped" }), undefined, { ...BOUNDS, once: true }, NOW).ok,
    true,
  );
});

Deno.test("mailboxCheck: a command without an answer past the bound is stuck", () => {
  const since = NOW - 40_000;
  const stuck = {
    lastHeardAt: NOW - 31_000,
    outstanding: { command: "UID FETCH", since },
    dead: false,
  };
  const check = mailboxCheck(status({ state: "connected" }), stuck, BOUNDS, NOW);
  assert.equal(check.ok, false);
  assert.equal(check.reason, "stuck: UID FETCH has had no answer for 31 s");
  const talking = { ...stuck, lastHeardAt: NOW - 2_000 };
  assert.equal(mailboxCheck(status({ state: "connected" }), talking, BOUNDS, NOW).ok, true);
});

Deno.test("mailboxCheck: an idle connection silent past an IDLE check plus the bound is stuck", () => {
  const silent = { lastHeardAt: NOW - 151_000, outstanding: undefined, dead: false };
  const check = mailboxCheck(status({ state: "idle" }), silent, BOUNDS, NOW);
  assert.equal(check.ok, false);
  assert.match(check.reason!, /no server activity for 151 s/);
  const recent = { ...silent, lastHeardAt: NOW - 149_000 };
  assert.equal(mailboxCheck(status({ state: "idle" }), recent, BOUNDS, NOW).ok, true);
});

Deno.test("mailboxCheck: a mailbox whose commits Redis refuses is not ready, and an OOM is named with the fix", () => {
  const since = new Date(NOW - 5_000).toISOString();
  const oom = mailboxCheck(
    status({ state: "connected", redisRefusing: { kind: "oom", since } }),
    undefined,
    BOUNDS,
    NOW,
  );
  assert.equal(oom.ok, false);
  assert.match(oom.reason!, /out of memory .*raise maxmemory/);
  const down = mailboxCheck(
    status({ state: "idle", redisRefusing: { kind: "unreachable", since } }),
    undefined,
    BOUNDS,
    NOW,
  );
  assert.match(down.reason!, /Redis refuses commits \(unreachable\)/);
  assert.equal(mailboxCheck(status({ state: "idle" }), undefined, BOUNDS, NOW).ok, true);
});
