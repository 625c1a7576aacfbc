import assert from "node:assert/strict";
import type { ChangeRow } from "../imap/change_feed.ts";
import { detectChanges, missingUids, nextModseqMark } from "./change_events.ts";
import { FlagState, normaliseMarks } from "./flag_state.ts";

function known(count: number): FlagState {
  const state = new FlagState();
  for (let uid = 1; uid <= count; uid++) state.set(uid, normaliseMarks([], null));
  state.takeWrites();
  return state;
}

const row = (uid: number, flags: string[], modseq = 10n): ChangeRow => ({
  uid,
  flags,
  labels: null,
  modseq,
});

Deno.test("detectChanges() reports a changed known message once", () => {
  const state = known(5);
  const first = detectChanges(state, [row(2, ["\\Seen"], 12n), row(3, [], 13n)], [], 5);
  assert.deepEqual(first.updates.map((u) => [u.uid, u.old.flags, u.new.flags, u.modseq]), [
    [2, [], ["\\Seen"], 12n],
  ]);
  assert.equal(first.highestRowModseq, 13n);
  // The same answer again (a restart before the mark moved is impossible, but a repeat is harmless).
  assert.deepEqual(detectChanges(state, [row(2, ["\\Seen"], 12n)], [], 5).updates, []);
});

Deno.test("detectChanges() records unknown messages at or below the cursor silently", () => {
  const state = known(2);
  const result = detectChanges(state, [row(3, ["\\Seen"]), row(9, ["\\Seen"])], [], 5);
  assert.deepEqual(result.updates, []);
  assert.equal(state.has(3), true);
  assert.equal(state.has(9), false, "above the cursor: left for its email entry");
});

Deno.test("detectChanges() turns vanished known UIDs into deletions, once", () => {
  const state = known(5);
  const result = detectChanges(state, [row(4, ["\\Seen"])], [4, 5, 77], 5);
  assert.deepEqual(result.updates, [], "a message both changed and expunged is a deletion");
  assert.deepEqual(result.deletions.map((d) => d.uid), [4, 5]);
  assert.deepEqual(detectChanges(state, [], [4, 5], 5).deletions, []);
  assert.deepEqual(state.knownUids(), [1, 2, 3]);
});

Deno.test("missingUids() lists known UIDs the server no longer has", () => {
  assert.deepEqual(missingUids(known(6), [1, 3, 4, 6], 6), [2, 5]);
  assert.deepEqual(missingUids(known(6), [1], 2), [2], "above the cursor: not asked about");
});

Deno.test("nextModseqMark() never goes back", () => {
  assert.equal(nextModseqMark(null, null, null), "0");
  assert.equal(nextModseqMark("40", 12n, 39n), "40");
  assert.equal(nextModseqMark("40", 41n, 45n), "45");
  assert.equal(nextModseqMark("scan:3", 7n, null), "7");
  assert.equal(nextModseqMark("18446744073709551615", null, null), "18446744073709551615");
});
