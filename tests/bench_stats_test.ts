import assert from "node:assert/strict";
import { median, parseCpuTicks, stealLine } from "../scripts/bench_stats.ts";

Deno.test("median() takes the middle value, or the mean of the two middle ones", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

Deno.test("parseCpuTicks() reads the total and the steal of /proc/stat's first line", () => {
  const stat = "cpu  100 5 40 800 10 0 5 40 7 0\ncpu0 50 2 20 400 5 0 2 20 3 0\n";
  assert.deepEqual(parseCpuTicks(stat), { total: 1000, steal: 40 });
  assert.equal(parseCpuTicks("cpu0 1 2 3 4 5 6 7 8"), undefined);
  assert.equal(parseCpuTicks("cpu  1 2 3"), undefined);
  assert.equal(parseCpuTicks(""), undefined);
});

Deno.test("stealLine() gives the share stolen between two readings, or says it is not known", () => {
  const line = stealLine({ total: 1000, steal: 40 }, { total: 3000, steal: 340 });
  assert.match(line, /^machine: 15\.0 % of the CPU time during the runs was stolen/);
  assert.match(stealLine(undefined, { total: 1, steal: 0 }), /not known/);
});
