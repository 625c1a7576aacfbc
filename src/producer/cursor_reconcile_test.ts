import assert from "node:assert/strict";
import { silentLogger } from "../log/logger.ts";
import { reconcileCursor } from "./cursor_reconcile.ts";

const ref = { account: "me@test", mailbox: "INBOX" };
const now = new Date("2026-03-01T10:00:00Z");

function options(startUid = 42) {
  let asked = 0;
  const start = {
    kind: "latest" as const,
    uid: () => {
      asked++;
      return Promise.resolve(startUid);
    },
  };
  return { opts: { ref, start, logger: silentLogger, now }, asked: () => asked };
}

Deno.test("reconcileCursor() resumes a cursor of the same UIDVALIDITY without asking where to start", async () => {
  const { opts, asked } = options();
  const plan = await reconcileCursor({ uidValidity: 7, lastUid: 30 }, 7, opts);
  assert.deepEqual(plan, { kind: "resume", position: { uidValidity: 7, lastUid: 30 } });
  assert.equal(asked(), 0);
});

Deno.test("reconcileCursor() starts a mailbox without state per --start", async () => {
  const { opts, asked } = options(42);
  const empty = { uidValidity: null, lastUid: null };
  const plan = await reconcileCursor(empty, 7, opts);
  assert.deepEqual(plan, {
    kind: "move",
    expected: empty,
    position: { uidValidity: 7, lastUid: 42 },
  });
  assert.equal(asked(), 1);
});

Deno.test("reconcileCursor() keeps a last UID set by `state reset` before the first sync", async () => {
  const { opts, asked } = options(42);
  const reset = { uidValidity: null, lastUid: 5 };
  const plan = await reconcileCursor(reset, 7, opts);
  assert.deepEqual(plan, {
    kind: "move",
    expected: reset,
    position: { uidValidity: 7, lastUid: 5 },
  });
  assert.equal(asked(), 0);
});

Deno.test("reconcileCursor() starts again at 0 with a mailbox_reset entry after a UIDVALIDITY change", async () => {
  const { opts, asked } = options();
  const stored = { uidValidity: 7, lastUid: 30 };
  const plan = await reconcileCursor(stored, 8, opts);
  assert.deepEqual(plan, {
    kind: "move",
    expected: stored,
    position: { uidValidity: 8, lastUid: 0 },
    reset: {
      schema_version: 1,
      account: ref.account,
      mailbox: ref.mailbox,
      previous_uidvalidity: 7,
      uidvalidity: 8,
      at: now.toISOString(),
    },
  });
  assert.equal(asked(), 0);
});
