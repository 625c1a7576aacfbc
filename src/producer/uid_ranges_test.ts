import assert from "node:assert/strict";
import { UidRanges } from "./uid_ranges.ts";

Deno.test("UidRanges keeps consecutive UIDs as one range", () => {
  const set = new UidRanges();
  for (let uid = 1; uid <= 100_000; uid++) set.add(uid);
  assert.equal(set.size, 100_000);
  assert.equal(set.rangeCount, 1);
  assert.equal(set.toString(), "1:100000");
});

Deno.test("UidRanges.add() and delete() split and merge ranges", () => {
  const set = UidRanges.parse("1:5,7,9:10");
  assert.equal(set.size, 8);
  assert.equal(set.has(6), false);
  assert.equal(set.add(6), true);
  assert.equal(set.add(6), false);
  assert.equal(set.toString(), "1:7,9:10");
  assert.equal(set.add(8), true);
  assert.equal(set.toString(), "1:10");
  assert.equal(set.delete(4), true);
  assert.equal(set.delete(4), false);
  assert.equal(set.toString(), "1:3,5:10");
  assert.equal(set.delete(1), true);
  assert.equal(set.delete(10), true);
  assert.equal(set.toString(), "2:3,5:9");
  assert.deepEqual([...set], [2, 3, 5, 6, 7, 8, 9]);
  assert.equal(set.size, 7);
  for (const uid of [2, 3]) set.delete(uid);
  assert.equal(set.toString(), "5:9");
});

Deno.test("UidRanges.add() below the lowest range and into gaps", () => {
  const set = UidRanges.parse("10:12,20");
  set.add(3);
  set.add(9);
  set.add(19);
  set.add(15);
  assert.equal(set.toString(), "3,9:12,15,19:20");
});

Deno.test("UidRanges.parse() reads what toString() writes, and unordered input", () => {
  assert.equal(UidRanges.parse("").size, 0);
  assert.equal(UidRanges.parse("5,1:3,4").toString(), "1:5");
  assert.throws(() => UidRanges.parse("3:1"), /not a range/);
  assert.throws(() => UidRanges.parse("a"), /not a range/);
});

Deno.test("UidRanges matches a plain Set under random edits", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const set = new UidRanges();
  const reference = new Set<number>();
  for (let i = 0; i < 5_000; i++) {
    const uid = 1 + Math.floor(random() * 300);
    if (random() < 0.6) assert.equal(set.add(uid), !reference.has(uid) && !!reference.add(uid));
    else assert.equal(set.delete(uid), reference.delete(uid));
  }
  assert.deepEqual([...set], [...reference].sort((a, b) => a - b));
  assert.equal(set.size, reference.size);
  assert.deepEqual([...UidRanges.parse(set.toString())], [...set]);
});

Deno.test("UidRanges.slice() clips ranges to a window; parse() joins adjacent ranges", () => {
  const set = UidRanges.parse("1:10,20,30:40");
  assert.equal(set.slice(5, 31), "5:10,20,30:31");
  assert.equal(set.slice(11, 19), "");
  assert.equal(set.slice(40, 99), "40");
  assert.equal(set.first, 1);
  assert.equal(set.last, 40);
  const joined = UidRanges.parse("1:4095,4096:8191");
  assert.equal(joined.rangeCount, 1);
  assert.equal(joined.size, 8191);
});
