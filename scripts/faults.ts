/**
 * The fault-injection suite: each scenario starts its own servers on loopback
 * ports, injects one kind of fault while mail flows, and ends with counts
 * (messages in the mailbox, distinct entries, duplicates, sink deliveries per
 * key, DLQ entries and reasons, time to recover).
 *
 *     deno run -A scripts/faults.ts [--only NAME[,NAME]] [--quick] [--seed N] [--json]
 *
 * Exit code 1 when any scenario's expectations did not hold.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CREDENTIAL_SCENARIOS } from "../tests/faults/credentials.ts";
import { IMAP_SCENARIOS } from "../tests/faults/imap.ts";
import { REDIS_WORKER_SCENARIOS } from "../tests/faults/redis_worker.ts";
import type { FaultReport, FaultScenario } from "../tests/faults/scenario.ts";

/** Every scenario, in the order the suite runs them. */
export const SCENARIOS: readonly FaultScenario[] = [
  ...IMAP_SCENARIOS,
  ...REDIS_WORKER_SCENARIOS,
  ...CREDENTIAL_SCENARIOS,
];

function formatReport(report: FaultReport): string {
  const reasons = Object.entries(report.dlq.reasons).map(([r, n]) => `${r}=${n}`).join(" ");
  return [
    `${report.ok ? "ok  " : "FAIL"} ${report.scenario} (${report.seconds.toFixed(1)} s)`,
    `     mailbox ${report.mailbox_messages}, distinct entries ${report.distinct_entries}, ` +
    `duplicates ${report.duplicates}`,
    `     sink deliveries ${report.sink.deliveries} over ${report.sink.distinct_keys} keys, ` +
    `${report.sink.keys_delivered_more_than_once} keys more than once, ` +
    `${report.sink.repeated_successes} repeated successes`,
    `     dlq ${report.dlq.total}${reasons ? ` (${reasons})` : ""}, recovery ${
      report.recovery_seconds === null ? "n/a" : `${report.recovery_seconds.toFixed(1)} s`
    }`,
    ...Object.entries(report.details).map(([k, v]) => `     ${k}: ${JSON.stringify(v)}`),
    ...report.problems.map((p) => `     problem: ${p}`),
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno run -A scripts/faults.ts [--only NAME[,NAME]] [--quick] [--seed N] [--json]\n\n" +
        "Scenarios:\n" + SCENARIOS.map((s) => `  ${s.name.padEnd(24)} ${s.summary}`).join("\n"),
    );
    return 0;
  }
  const seed = Number(values.seed);
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (!Number.isInteger(seed) || unknown.length > 0) {
    const problems = [
      ...(Number.isInteger(seed)
        ? []
        : [`--seed must be a whole number, current value is ${values.seed}`]),
      ...unknown.map((name) => `--only: no scenario named ${name} (see --help)`),
    ];
    console.error(`Cannot run the fault suite:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 2;
  }
  const chosen = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const reports: FaultReport[] = [];
  for (const scenario of chosen) {
    console.error(`[faults] ${scenario.name}: ${scenario.summary}`);
    const report = await scenario.run({
      quick: values.quick,
      seed,
      log: (line) => console.error(`[faults] ${scenario.name}: ${line}`),
    });
    reports.push(report);
    if (!values.json) console.log(formatReport(report));
  }
  if (values.json) console.log(JSON.stringify({ reports }, null, 2));
  const failed = reports.filter((r) => !r.ok).length;
  console.error(`[faults] ${reports.length - failed} of ${reports.length} scenarios held`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
