import assert from "node:assert/strict";
import { ImapError } from "../errors.ts";
import { interruptedBatch } from "./interrupted_batch.ts";
import type { FetchedMessage } from "./message_payload.ts";

const message = (uid: number) => ({ uid, size: 1, flags: [] }) as unknown as FetchedMessage;
const error = new ImapError("IMAP_CONNECTION", "dropped");

Deno.test("interruptedBatch keeps the longest prefix of requested UIDs that arrived whole", () => {
  const batch = interruptedBatch(
    [1, 2, 3, 4, 5, 6],
    [1, 2, 3, 4, 5].map(message),
    new Set([4]), // UID 4's text parts never arrived
    1234,
    error,
  );
  assert.deepEqual(batch.messages.map((m) => m.uid), [1, 2, 3]);
  assert.equal(batch.interrupted?.throughUid, 3);
  assert.equal(batch.interrupted?.error, error);
  assert.equal(batch.bytes, 1234);
});

Deno.test("interruptedBatch stops at a UID whose metadata did not arrive, never skipping it", () => {
  // 3 is missing: maybe expunged, maybe not sent yet. The cursor must not pass it.
  const batch = interruptedBatch([1, 2, 3, 4], [1, 2, 4].map(message), new Set(), 0, error);
  assert.deepEqual(batch.messages.map((m) => m.uid), [1, 2]);
  assert.equal(batch.interrupted?.throughUid, 2);
});

Deno.test("interruptedBatch with nothing whole covers no UID", () => {
  const batch = interruptedBatch([7, 8], [7].map(message), new Set([7]), 0, error);
  assert.deepEqual(batch.messages, []);
  assert.equal(batch.interrupted?.throughUid, undefined);
});
