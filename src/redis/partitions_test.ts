import assert from "node:assert/strict";
import { cursorKey } from "./keys.ts";
import { mailboxRef, partitionOf, partitionStream, partitionStreams } from "./partitions.ts";

Deno.test("partitionOf() is stable, case-insensitive and spreads accounts over every partition", () => {
  assert.equal(partitionOf("alice@example.com", 1), undefined);
  // Pinned values: a change of the hash would move every account's keys.
  assert.equal(partitionOf("alice@example.com", 6), partitionOf("ALICE@example.com", 6));
  assert.deepEqual(
    ["alice@example.com", "bob@example.com", "carol@example.com"].map((a) => partitionOf(a, 6)),
    [PINNED.alice, PINNED.bob, PINNED.carol],
  );
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 6_000; i++) counts[partitionOf(`user${i}@example.com`, 6)!]++;
  for (const count of counts) assert.ok(count > 800 && count < 1_200, `uneven: ${counts}`);
});

Deno.test("partitionStreams() keeps the stream name with one partition and tags each of N", () => {
  assert.deepEqual(partitionStreams("s", 1), ["s"]);
  assert.deepEqual(partitionStreams("s", 3), ["s:{p0}", "s:{p1}", "s:{p2}"]);
  assert.equal(partitionStream("s", undefined), "s");
});

Deno.test("mailboxRef() leaves the seed's key names alone with one partition", () => {
  assert.equal(
    cursorKey(mailboxRef("a@x", "INBOX", 1), "last_uid"),
    "producer_state:a@x:INBOX:last_uid",
  );
  const ref = mailboxRef("a@x", "INBOX", 6);
  assert.equal(cursorKey(ref, "last_uid"), `producer_state:{p${ref.partition}}:a@x:INBOX:last_uid`);
});

const PINNED = { alice: 2, bob: 3, carol: 1 };
