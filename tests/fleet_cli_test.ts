import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";

Deno.test("produce --fleet with single-account flags exits 2 naming every problem", async () => {
  const result = await runIngest(
    ["produce", "--fleet", "--account", "a@example.test", "--once", "--max-accounts", "0"],
    { env: { REDIS_URL: "redis://127.0.0.1:1" } },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--account cannot be used with --fleet/);
  assert.match(result.stderr, /--once cannot be used with --fleet/);
  assert.match(result.stderr, /max-accounts|FLEET_MAX_ACCOUNTS/);
});

Deno.test("produce --help shows --fleet and --max-accounts with an example", async () => {
  const result = await runIngest(["produce", "--help"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--fleet/);
  assert.match(result.stdout, /--max-accounts <n>/);
  assert.match(result.stdout, /ingest produce --fleet --max-accounts 500/);
});
