import assert from "node:assert/strict";
import type { ClaimedEntry } from "./consumer_group.ts";
import { InFlightEntries } from "./in_flight.ts";

const entry = (id: string): ClaimedEntry => ({
  id,
  fields: [],
  deliveries: 1,
  attempts: undefined,
});

Deno.test("InFlightEntries runs an entry claimed again only after its previous run ended", async () => {
  const runs: string[] = [];
  const gates: (() => void)[] = [];
  let finished = 0;
  const flights = new InFlightEntries({
    handle: (entries, listener) => {
      for (const e of entries) {
        runs.push(`start ${e.id} ${e.deliveries}`);
        gates.push(() => listener.done(e.id));
      }
    },
    onFailed: () => {},
    onFinished: () => finished++,
    now: () => 0,
  });
  flights.dispatch([entry("1-0")]);
  flights.dispatch([{ ...entry("1-0"), deliveries: 2 }]);
  assert.deepEqual(runs, ["start 1-0 1"], "one run of an id at a time");
  assert.equal(flights.size, 1);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(runs, ["start 1-0 1", "start 1-0 2"]);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(flights.size, 0);
  assert.equal(finished, 2);
});

Deno.test("InFlightEntries reports a failed handler and tracks lease renewals", async () => {
  let clock = 1_000;
  const failed: string[] = [];
  const flights = new InFlightEntries({
    handle: (entries, listener) => {
      for (const e of entries) if (e.id === "bad") listener.failed(e.id, new Error("x"));
    },
    onFailed: (id) => failed.push(id),
    onFinished: () => {},
    now: () => clock,
  });
  flights.dispatch([entry("a"), entry("bad")]);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(failed, ["bad"]);
  assert.deepEqual(flights.ids(), ["a"]);
  clock = 1_500;
  assert.deepEqual(flights.leasesDue(clock, 1_000), []);
  clock = 2_000;
  assert.deepEqual(flights.leasesDue(clock, 1_000), ["a"]);
  flights.touched(["a"], clock);
  assert.deepEqual(flights.leasesDue(clock, 1_000), []);
});
