import assert from "node:assert/strict";
import { CREDENTIAL_SCENARIOS } from "./faults/credentials.ts";

for (const scenario of CREDENTIAL_SCENARIOS) {
  Deno.test(`fault ${scenario.name}: ${scenario.summary}`, async () => {
    const report = await scenario.run({ quick: true, seed: 1, log: () => {} });
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.distinct_entries, report.mailbox_messages);
    assert.equal(report.duplicates, 0);
    assert.equal(report.details.refused_exit_code, 1);
  });
}
