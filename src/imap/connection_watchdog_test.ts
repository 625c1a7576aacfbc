import assert from "node:assert/strict";
import { ConnectionWatchdog } from "./connection_watchdog.ts";

function fixture(commandTimeoutMs = 1_000) {
  const clock = { now: 1_000_000, received: 0 };
  const deaths: Array<{ command: string; silentMs: number }> = [];
  let heard = 0;
  const dog = new ConnectionWatchdog({
    commandTimeoutMs,
    received: () => clock.received,
    onDead: (command, silentMs) => deaths.push({ command, silentMs }),
    onHeard: () => heard++,
    now: () => clock.now,
  });
  return { clock, deaths, dog, heard: () => heard };
}

Deno.test("ConnectionWatchdog declares a command dead after commandTimeoutMs of silence, once", async () => {
  const { clock, deaths, dog } = fixture();
  let release!: () => void;
  const pending = dog.watch("UID FETCH", () => new Promise<void>((r) => (release = r)));
  clock.now += 999;
  dog.check();
  assert.equal(deaths.length, 0, "still within the bound");
  clock.now += 1;
  dog.check();
  clock.now += 5_000;
  dog.check();
  assert.deepEqual(deaths, [{ command: "UID FETCH", silentMs: 1_000 }]);
  assert.equal(dog.activity().dead, true);
  release();
  await pending;
});

Deno.test("ConnectionWatchdog: bytes arriving keep a long command alive", async () => {
  const { clock, deaths, dog, heard } = fixture();
  let release!: () => void;
  const pending = dog.watch("UID FETCH", () => new Promise<void>((r) => (release = r)));
  for (let i = 0; i < 10; i++) {
    clock.now += 800;
    clock.received += 100;
    dog.check();
  }
  assert.equal(deaths.length, 0);
  assert.equal(heard(), 10);
  assert.equal(dog.activity().lastHeardAt, clock.now);
  release();
  await pending;
});

Deno.test("ConnectionWatchdog: silence without an outstanding command (IDLE) is not a failure", async () => {
  const { clock, deaths, dog } = fixture();
  clock.now += 60_000;
  dog.check();
  assert.equal(deaths.length, 0);
  assert.equal(dog.activity().outstanding, undefined);
  // A command after a long quiet spell gets its full bound from its own start.
  let release!: () => void;
  const pending = dog.watch("NOOP", () => new Promise<void>((r) => (release = r)));
  assert.equal(dog.activity().outstanding?.command, "NOOP");
  clock.now += 500;
  dog.check();
  assert.equal(deaths.length, 0);
  clock.now += 500;
  dog.check();
  assert.equal(deaths.length, 1);
  release();
  await pending;
  assert.equal(dog.activity().outstanding, undefined);
});

Deno.test("ConnectionWatchdog: a failed command is no longer outstanding", async () => {
  const { dog } = fixture();
  await assert.rejects(dog.watch("SEARCH", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(dog.activity().outstanding, undefined);
  assert.throws(
    () => new ConnectionWatchdog({ commandTimeoutMs: 0, received: () => 0, onDead: () => {} }),
    /commandTimeoutMs must be > 0/,
  );
});
