import assert from "node:assert/strict";
import { planShare } from "./fair_share.ts";

const accounts = Array.from({ length: 50 }, (_, i) => `user${i}@example.test`);

Deno.test("planShare() gives each of 3 processes ceil(50 / 3) = 17 at most", () => {
  const plan = planShare({
    processId: "p1",
    registered: accounts,
    held: [],
    liveMembers: 3,
    maxAccounts: 1000,
  });
  assert.equal(plan.share, 17);
  assert.equal(plan.want, 17);
  assert.equal(plan.candidates.length, 50);
  assert.deepEqual(plan.release, []);
});

Deno.test("planShare() releases what is over the share when a process joins", () => {
  const plan = planShare({
    processId: "p1",
    registered: accounts,
    held: accounts,
    liveMembers: 2,
    maxAccounts: 1000,
  });
  assert.equal(plan.share, 25);
  assert.equal(plan.release.length, 25);
  assert.equal(plan.want, 0);
  // The same accounts every tick, so a slow handover does not churn.
  const again = planShare({
    processId: "p1",
    registered: accounts,
    held: accounts,
    liveMembers: 2,
    maxAccounts: 1000,
  });
  assert.deepEqual(again.release, plan.release);
});

Deno.test("planShare() stays within --max-accounts", () => {
  const plan = planShare({
    processId: "p1",
    registered: accounts,
    held: accounts.slice(0, 3),
    liveMembers: 1,
    maxAccounts: 5,
  });
  assert.equal(plan.share, 5);
  assert.equal(plan.want, 2);
  assert.ok(plan.candidates.every((a) => !accounts.slice(0, 3).includes(a)));
});

Deno.test("planShare() orders candidates differently for different processes", () => {
  const input = { registered: accounts, held: [], liveMembers: 3, maxAccounts: 1000 };
  const a = planShare({ ...input, processId: "p1" }).candidates;
  const b = planShare({ ...input, processId: "p2" }).candidates;
  assert.notDeepEqual(a, b);
  assert.deepEqual([...a].sort(), [...b].sort());
});

Deno.test("planShare() with no live member counted still plans for itself", () => {
  const plan = planShare({
    processId: "p1",
    registered: accounts.slice(0, 4),
    held: [],
    liveMembers: 0,
    maxAccounts: 1000,
  });
  assert.equal(plan.share, 4);
});
