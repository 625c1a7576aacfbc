/**
 * The statistics the benchmark scripts print their figures with.
 *
 * @module
 */

/** The median of `numbers`: the middle value, or the mean of the two middle values. */
export function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The machine's CPU time so far, in clock ticks: all of it, and what the hypervisor gave other guests. */
export interface CpuTicks {
  readonly total: number;
  /** Ticks a virtual CPU was ready to run but the hypervisor ran something else ("steal"). */
  readonly steal: number;
}

/**
 * The first line of `/proc/stat` (`cpu  user nice system idle iowait irq
 * softirq steal guest guest_nice`) as {@link CpuTicks}; `undefined` when it is
 * not such a line. Guest time is already inside user time, so it is not added.
 */
export function parseCpuTicks(procStat: string): CpuTicks | undefined {
  const [label, ...fields] = procStat.split("\n")[0]!.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number);
  if (label !== "cpu" || ticks.length < 8 || !ticks.every(Number.isInteger)) return undefined;
  return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[7]! };
}

/** This machine's {@link CpuTicks} now; `undefined` where there is no `/proc/stat`. */
export async function cpuTicks(): Promise<CpuTicks | undefined> {
  try {
    return parseCpuTicks(await Deno.readTextFile("/proc/stat"));
  } catch {
    return undefined;
  }
}

/**
 * A line for a benchmark's output: the share of the machine's CPU time the
 * hypervisor took between two readings, so that a reader can tell a spell
 * of a shared VM's host from a change under test.
 */
export function stealLine(before: CpuTicks | undefined, after: CpuTicks | undefined): string {
  if (!before || !after || after.total <= before.total) {
    return "machine: steal time not known (no /proc/stat)";
  }
  const share = (after.steal - before.steal) / (after.total - before.total);
  return `machine: ${(share * 100).toFixed(1)} % of the CPU time during the runs was stolen ` +
    `by the hypervisor for other guests`;
}
