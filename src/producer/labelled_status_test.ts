import assert from "node:assert/strict";
import { initialStatus } from "./mailbox_status.ts";
import { labelledStatus } from "./producer.ts";

Deno.test("labelledStatus() shows the account by its label, in error messages too, whatever the case", () => {
  const status = initialStatus("Alice.B+x@example.test", "INBOX");
  status.lastError = {
    message: "Run: ingest auth setup --account alice.b+x@EXAMPLE.test (Alice.B+x@example.test)",
    at: "2026-01-01T00:00:00.000Z",
  };
  const shown = labelledStatus(status, "Alice.B+x@example.test", "acct-123");
  assert.equal(shown.account, "acct-123");
  assert.equal(
    shown.lastError?.message,
    "Run: ingest auth setup --account acct-123 (acct-123)",
  );
  assert.doesNotMatch(JSON.stringify(shown), /example\.test/);
  assert.equal(status.account, "Alice.B+x@example.test", "the live status is not changed");
});
