import assert from "node:assert/strict";
import { assessMemory, suggestedMaxmemory } from "./redis_memory.ts";

function info(used: number, max: number): Map<string, string> {
  return new Map([["used_memory", String(used)], ["maxmemory", String(max)]]);
}

const MIB = 1024 * 1024;

Deno.test("assessMemory() passes well below maxmemory", () => {
  const check = assessMemory(info(10 * MIB, 100 * MIB));
  assert.equal(check.status, "pass");
  assert.match(check.detail, /10\.0 MiB used of maxmemory 100\.0 MiB \(10%\)/);
});

Deno.test("assessMemory() warns from 80% and fails from 95%, with the exact command", () => {
  assert.equal(assessMemory(info(80 * MIB, 100 * MIB)).status, "warn");
  const full = assessMemory(info(103 * MIB, 100 * MIB));
  assert.equal(full.status, "fail");
  assert.match(full.detail, /\(103%\): Redis is out of memory/);
  assert.match(full.fix!, /^redis-cli CONFIG SET maxmemory 155mb && redis-cli CONFIG REWRITE/);
  assert.equal(assessMemory(info(95 * MIB, 100 * MIB)).status, "fail");
});

Deno.test("assessMemory() warns when maxmemory is unset or INFO lacks the fields", () => {
  assert.equal(assessMemory(info(MIB, 0)).status, "warn");
  assert.match(assessMemory(info(MIB, 0)).detail, /maxmemory is not set/);
  assert.equal(assessMemory(new Map()).status, "warn");
  assert.equal(suggestedMaxmemory(MIB), "64mb");
});
