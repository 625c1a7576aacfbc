/**
 * The advice printed under a stream report when groups are orphaned
 * (src/stream/orphan.ts): what holds the stream back and the two fixes.
 *
 * @module
 */

import type { StreamReport } from "../../src/stream/inspect.ts";

/** One paragraph per orphaned group; empty when there is none. */
export function orphanAdvice(report: StreamReport, thresholdSeconds: number): string {
  return report.groups.filter((g) => g.orphaned).map((g) =>
    `\nOrphaned: group ${g.name} has had no active consumer for over ${thresholdSeconds}s ` +
    `(GROUP_ORPHAN_SECONDS) while entries wait for it (${g.pending} pending, ${
      g.lag ?? "?"
    } undelivered); it keeps them from being trimmed and can pause the producer.\n` +
    `  Fix: start a worker  ingest work --group ${g.name} --sink SPEC\n` +
    `   or: delete it       ingest group delete --group ${g.name} --yes\n`
  ).join("");
}
