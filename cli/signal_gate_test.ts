import assert from "node:assert/strict";
import { createSignalGate } from "./signal_gate.ts";

function gateAt(times: number[]) {
  let index = 0;
  return createSignalGate({ duplicateWindowMs: 500, now: () => times[index++] ?? 0 });
}

Deno.test("createSignalGate(): the first signal stops, a copy a millisecond later is a duplicate", () => {
  const gate = gateAt([1000, 1001]);
  assert.equal(gate("SIGINT"), "stop");
  assert.equal(gate("SIGINT"), "duplicate");
});

Deno.test("createSignalGate(): pressing Ctrl-C again after the window forces the exit", () => {
  const gate = gateAt([1000, 1001, 2000, 2001]);
  assert.deepEqual(
    ["SIGINT", "SIGINT", "SIGINT", "SIGINT"].map(gate),
    ["stop", "duplicate", "force", "force"],
  );
});

Deno.test("createSignalGate(): a different signal inside the window is a new request", () => {
  const gate = gateAt([1000, 1100]);
  assert.equal(gate("SIGINT"), "stop");
  assert.equal(gate("SIGTERM"), "force");
});
