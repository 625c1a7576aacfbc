import assert from "node:assert/strict";
import { CHUNK_UIDS, FlagState, normaliseMarks, sameMarks } from "./flag_state.ts";

const seen = normaliseMarks(["\\Seen"], null);
const none = normaliseMarks([], null);

Deno.test("normaliseMarks() sorts, drops \\Recent, \\Deleted and repeats", () => {
  assert.deepEqual(
    normaliseMarks(["\\Seen", "\\Recent", "\\Flagged", "\\Seen", "\\Deleted"], ["b", "a"]),
    {
      flags: ["\\Flagged", "\\Seen"],
      labels: ["a", "b"],
    },
  );
  assert.equal(sameMarks(normaliseMarks(["b", "a"], null), normaliseMarks(["a", "b"], null)), true);
  assert.equal(sameMarks(normaliseMarks([], []), normaliseMarks([], null)), false);
});

Deno.test("FlagState records, moves and forgets UIDs by flag combination", () => {
  const state = new FlagState();
  for (let uid = 1; uid <= 10; uid++) assert.equal(state.set(uid, none), undefined);
  assert.deepEqual(state.set(4, seen), none);
  assert.deepEqual(state.set(4, seen), seen);
  assert.deepEqual(state.marksOf(4), seen);
  assert.deepEqual(state.delete(5), none);
  assert.equal(state.delete(5), undefined);
  assert.equal(state.has(5), false);
  assert.equal(state.size, 9);
  assert.equal(state.combinations, 2);
  assert.deepEqual(state.toHash(), {
    [`${JSON.stringify([[], null])}#0`]: "1:3,6:10",
    [`${JSON.stringify([["\\Seen"], null])}#0`]: "4",
  });
  assert.deepEqual(state.knownUids(), [1, 2, 3, 4, 6, 7, 8, 9, 10]);
  assert.equal(state.lowestOfHighest(3), 8);
  assert.equal(state.lowestOfHighest(50), 1);
});

Deno.test("FlagState.takeWrites() returns only the fields changed since the last call", () => {
  const state = FlagState.fromHash({ [`${JSON.stringify([[], null])}#0`]: "1:3" });
  assert.equal(state.hasPendingWrites, false);
  state.set(2, seen);
  assert.equal(state.hasPendingWrites, true);
  assert.deepEqual(state.takeWrites(), {
    set: [[`${JSON.stringify([[], null])}#0`, "1,3"], [
      `${JSON.stringify([["\\Seen"], null])}#0`,
      "2",
    ]],
    delete: [],
  });
  assert.deepEqual(state.takeWrites(), { set: [], delete: [] });
  state.delete(2);
  assert.deepEqual(state.takeWrites(), {
    set: [],
    delete: [`${JSON.stringify([["\\Seen"], null])}#0`],
  });
});

Deno.test("FlagState stores a combination in fields of CHUNK_UIDS UIDs and writes only those touched", () => {
  const state = new FlagState();
  for (let uid = 1; uid <= 3 * CHUNK_UIDS; uid++) state.set(uid, none);
  state.takeWrites();
  state.set(CHUNK_UIDS + 5, seen);
  const writes = state.takeWrites();
  const unseen = JSON.stringify([[], null]);
  assert.deepEqual(writes.set.map(([f]) => f).sort(), [
    `${JSON.stringify([["\\Seen"], null])}#1`,
    `${unseen}#1`,
  ]);
  const hash = state.toHash();
  assert.deepEqual(Object.keys(hash).sort(), [
    `${JSON.stringify([["\\Seen"], null])}#1`,
    `${unseen}#0`,
    `${unseen}#1`,
    `${unseen}#2`,
    `${unseen}#3`,
  ]);
  assert.equal(hash[`${unseen}#0`], `1:${CHUNK_UIDS - 1}`);
  // Read back: the chunks join into the same ranges.
  const again = FlagState.fromHash(hash);
  assert.equal(again.size, 3 * CHUNK_UIDS);
  assert.deepEqual(again.marksOf(CHUNK_UIDS + 5), seen);
  assert.deepEqual(again.toHash(), hash);
});
