import assert from "node:assert/strict";
import { orphanVerdict } from "./orphan.ts";

const HOUR = 3_600_000;
const now = 10 * HOUR;

Deno.test("orphanVerdict() flags a group without consumers whose oldest waiting entry is older than the threshold", () => {
  const verdict = orphanVerdict(
    { consumerIdleMs: [], oldestPendingId: null, firstUndeliveredId: `${now - 2 * HOUR}-0` },
    HOUR,
    now,
  );
  assert.deepEqual(verdict, { idleMs: null, waitingMs: 2 * HOUR, orphaned: true });
});

Deno.test("orphanVerdict() does not flag a group with a recently active consumer", () => {
  const verdict = orphanVerdict(
    {
      consumerIdleMs: [5 * HOUR, 1_000],
      oldestPendingId: `${now - 3 * HOUR}-0`,
      firstUndeliveredId: null,
    },
    HOUR,
    now,
  );
  assert.equal(verdict.orphaned, false);
  assert.equal(verdict.idleMs, 1_000);
});

Deno.test("orphanVerdict() does not flag a caught-up group, nor one whose entries are recent", () => {
  const caughtUp = { consumerIdleMs: [], oldestPendingId: null, firstUndeliveredId: null };
  assert.equal(orphanVerdict(caughtUp, HOUR, now).orphaned, false);
  const recent = { ...caughtUp, firstUndeliveredId: `${now - 60_000}-0` };
  assert.equal(orphanVerdict(recent, HOUR, now).orphaned, false);
  const stale = {
    consumerIdleMs: [2 * HOUR],
    oldestPendingId: `${now - 2 * HOUR}-3`,
    firstUndeliveredId: null,
  };
  assert.equal(orphanVerdict(stale, HOUR, now).orphaned, true);
});
