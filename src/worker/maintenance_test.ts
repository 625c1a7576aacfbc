import assert from "node:assert/strict";
import {
  Maintenance,
  maintenanceCadences,
  type MaintenanceChores,
  RECONNECT_GRACE_MS,
} from "./maintenance.ts";

/** Chores that record which ran, with `free` handlers and a retry schedule. */
function recorder(free = 4, orphans = 0) {
  const ran: string[] = [];
  let due: number | undefined;
  let left = orphans;
  const chores: MaintenanceChores = {
    free: () => free,
    takeDueRetries: (now, count) => Promise.resolve(void ran.push(`due@${now}x${count}`)),
    nextRetryDue: () => Promise.resolve(due),
    reclaimStalled: (count) => Promise.resolve(void ran.push(`stalled x${count}`)),
    reclaimOwnOrphans: (count) => {
      const claimed = Math.min(count, left);
      left -= claimed;
      ran.push(`own x${count}: ${claimed}`);
      return Promise.resolve(claimed);
    },
    extendLeases: (now) => Promise.resolve(void ran.push(`leases@${now}`)),
    prune: () => Promise.resolve(void ran.push("prune")),
  };
  return { chores, ran, setDue: (at: number | undefined) => (due = at) };
}

Deno.test("maintenanceCadences() names the intervals once, bounded by the timeouts", () => {
  assert.deepEqual(maintenanceCadences(60_000), {
    dueRetriesMs: 200,
    stalledMs: 5_000,
    leasesMs: 20_000,
    pruneMs: 60_000,
  });
  const short = maintenanceCadences(300, 1_000);
  assert.equal(short.stalledMs, 200, "stalled scans never closer than 200 ms");
  assert.equal(short.leasesMs, 100);
  assert.equal(short.pruneMs, 500, "half the consumer idle timeout");
});

Deno.test("Maintenance.run() runs each chore on its own cadence of the injected clock", async () => {
  let clock = 100_000;
  const { chores, ran } = recorder();
  const maintenance = new Maintenance({
    cadences: maintenanceCadences(60_000),
    chores,
    now: () => clock,
  });
  await maintenance.run();
  assert.deepEqual(
    ran,
    ["own x4: 0", "due@100000x4", "stalled x4", "leases@100000", "prune"],
    "all due at once, own orphans first",
  );
  ran.length = 0;
  clock += 199;
  await maintenance.run();
  assert.deepEqual(ran, [], "nothing before the first cadence");
  clock += 1;
  await maintenance.run();
  assert.deepEqual(ran, ["due@100200x4"]);
  ran.length = 0;
  clock = 105_000;
  await maintenance.run();
  assert.deepEqual(ran, ["own x4: 0", "due@105000x4", "stalled x4"], "own orphans on that cadence");
  ran.length = 0;
  clock = 120_000;
  await maintenance.run();
  assert.deepEqual(ran, ["own x4: 0", "due@120000x4", "stalled x4", "leases@120000"]);
  ran.length = 0;
  clock = 160_000;
  await maintenance.run();
  assert.deepEqual(ran, ["own x4: 0", "due@160000x4", "stalled x4", "leases@160000", "prune"]);
});

Deno.test("Maintenance.run() claims nothing while no handler is free, but still renews leases", async () => {
  const { chores, ran } = recorder(0);
  const maintenance = new Maintenance({
    cadences: maintenanceCadences(60_000),
    chores,
    now: () => 100_000,
  });
  await maintenance.run();
  assert.deepEqual(ran, ["leases@100000", "prune"]);
});

Deno.test("Maintenance polls the retry schedule at a known due time, sooner than its cadence", async () => {
  let clock = 100_000;
  const { chores, ran, setDue } = recorder();
  const maintenance = new Maintenance({
    cadences: maintenanceCadences(60_000),
    chores,
    now: () => clock,
  });
  setDue(100_050);
  await maintenance.run();
  assert.equal(maintenance.nextDue, 100_050, "learnt from the schedule");
  ran.length = 0;
  setDue(undefined);
  clock = 100_050;
  await maintenance.run();
  assert.deepEqual(ran, ["due@100050x4"]);
  assert.equal(maintenance.nextDue, undefined);
  maintenance.retryScheduled(100_100);
  maintenance.retryScheduled(100_300);
  assert.equal(maintenance.nextDue, 100_100, "the earliest wins");
});

Deno.test("Maintenance.afterRedisFailure() renews leases at once and waits the reconnect grace to reclaim", async () => {
  let clock = 100_000;
  const { chores, ran } = recorder();
  const cadences = maintenanceCadences(9_000);
  const maintenance = new Maintenance({ cadences, chores, now: () => clock });
  await maintenance.run();
  clock += 3_000;
  ran.length = 0;
  maintenance.afterRedisFailure();
  await maintenance.run();
  assert.ok(ran.includes(`leases@${clock}`), "leases renewed first");
  assert.ok(!ran.includes("stalled x4"), "others' entries not reclaimed yet");
  const failedAt = clock;
  clock = failedAt + RECONNECT_GRACE_MS + cadences.stalledMs - 1;
  ran.length = 0;
  await maintenance.run();
  assert.ok(!ran.includes("stalled x4"));
  clock += 1;
  await maintenance.run();
  assert.ok(ran.includes("stalled x4"), "reclaimed once the grace and one scan interval passed");
});

Deno.test("Maintenance.run() claims back own orphans at start and after a Redis failure, until none are left", async () => {
  let clock = 100_000;
  const { chores, ran } = recorder(4, 6);
  const maintenance = new Maintenance({
    cadences: maintenanceCadences(60_000),
    chores,
    now: () => clock,
  });
  const ownRuns = async () => {
    ran.length = 0;
    clock += 1; // well within the 5 s cadence of a regular look
    await maintenance.run();
    return ran.filter((r) => r.startsWith("own"));
  };
  assert.deepEqual(await ownRuns(), ["own x4: 4"], "as many as free: there may be more");
  assert.deepEqual(await ownRuns(), ["own x4: 2"]);
  assert.deepEqual(await ownRuns(), [], "fewer than free: none left");
  maintenance.afterRedisFailure();
  assert.deepEqual(await ownRuns(), ["own x4: 0"], "a failed read may have lost a reply");
  assert.deepEqual(await ownRuns(), []);
});
