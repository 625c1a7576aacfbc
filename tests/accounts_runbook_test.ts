/**
 * The CSV loop of docs/ACCOUNTS.md, run as written by bash against a real
 * redis-server: every line becomes an account whose sealed password opens
 * to exactly the CSV's password (commas and spaces included).
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { openPassword } from "../src/accounts/account_secret.ts";
import { listAccounts } from "../src/accounts/registry.ts";
import { encodeBase64, importTokenKey } from "../src/auth/token_crypto.ts";
import { startRedis } from "./harness/redis_server.ts";

const DOC = new URL("../docs/ACCOUNTS.md", import.meta.url);
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

/** The first ```sh block after the CSV runbook's heading. */
async function csvLoop(): Promise<string> {
  const text = await Deno.readTextFile(DOC);
  const section = text.slice(text.indexOf("## Runbook: adding 100 accounts from a CSV"));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "the runbook has a sh block");
  return block[1]!;
}

Deno.test("the CSV loop of docs/ACCOUNTS.md registers every line with its exact password", async () => {
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir({ prefix: "ingest-csv-" });
  const key = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
  const rows = [
    ["a1@example.test", "a1", "plain"],
    ["a2@example.test", "a2", "with, comma and  spaces "],
    ["bad address", "a3", "x"],
    ["a4@example.test", "a4", "last-line-without-newline"],
  ];
  await Deno.writeTextFile(`${dir}/accounts.csv`, rows.map((r) => r.join(",")).join("\n"));
  const script =
    `ingest() { "${Deno.execPath()}" run -A --quiet "${MAIN}" --no-env-file "$@"; }\n` +
    await csvLoop();
  const output = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: dir,
    env: { REDIS_URL: redis.url, INGEST_TOKEN_KEY: key, LOG_FORMAT: "json", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(stderr, /FAILED: bad address/);
  assert.equal(stderr.match(/FAILED/g)?.length, 1, stderr);
  const client = new Redis(redis.url);
  try {
    const records = await listAccounts(client);
    assert.deepEqual(records.map((r) => [r.account, r.alias]), [
      ["a1@example.test", "a1"],
      ["a2@example.test", "a2"],
      ["a4@example.test", "a4"],
    ]);
    const tokenKey = await importTokenKey(key);
    const passwords = await Promise.all(
      records.map((r) => openPassword(tokenKey, r.account, r.password_sealed!)),
    );
    assert.deepEqual(passwords, ["plain", "with, comma and  spaces ", "last-line-without-newline"]);
  } finally {
    client.disconnect();
  }
});
