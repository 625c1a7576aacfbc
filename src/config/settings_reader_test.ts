import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { range, SettingsReader } from "./settings_reader.ts";
import { numericDefault, VARIABLES, type VariableSpec, variableSpec } from "./variables.ts";

function problemsOf(read: SettingsReader): readonly string[] {
  try {
    read.throwIfProblems();
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

Deno.test("SettingsReader.seconds() accepts fractions within the row's bounds; integer() does not", () => {
  const read = new SettingsReader({
    env: { WORKER_VISIBILITY_TIMEOUT_SECONDS: "0.3", PRODUCER_LEASE_TTL_SECONDS: "2.5" },
  });
  assert.equal(read.seconds("WORKER_VISIBILITY_TIMEOUT_SECONDS"), 0.3);
  assert.equal(read.integer("PRODUCER_LEASE_TTL_SECONDS"), 30, "falls back to the default");
  assert.deepEqual(problemsOf(read), [
    'PRODUCER_LEASE_TTL_SECONDS must be a whole number >= 2: current value is "2.5"',
  ]);
});

Deno.test("SettingsReader names the flag when the value came from it, the variable otherwise", () => {
  const read = new SettingsReader({
    flags: { DOCTOR_TIMEOUT_SECONDS: "301" },
    env: { DOCTOR_TIMEOUT_SECONDS: "5", WORKER_CONCURRENCY: "0" },
  });
  read.seconds("DOCTOR_TIMEOUT_SECONDS");
  read.integer("WORKER_CONCURRENCY");
  const [flag, env] = problemsOf(read);
  assert.match(
    flag!,
    /^--timeout must be a number of seconds 0\.001\.\.300: current value is "301"/,
  );
  assert.match(flag!, /\(--timeout sets DOCTOR_TIMEOUT_SECONDS\)$/);
  assert.match(env!, /^WORKER_CONCURRENCY must be a whole number 1\.\.1000/);
});

Deno.test("every numeric row's default is within its own bounds", () => {
  for (const row of VARIABLES as readonly VariableSpec[]) {
    if (row.kind === undefined) continue;
    const read = new SettingsReader({});
    row.kind === "integer" ? read.integer(row.name as never) : read.seconds(row.name as never);
    assert.deepEqual(problemsOf(read), [], `${row.name} (${range(row)})`);
  }
});

Deno.test("no two rows share a flag on the same command", () => {
  const seen = new Map<string, string>();
  for (const row of VARIABLES as readonly VariableSpec[]) {
    if (row.flag === undefined) continue;
    const flag = row.flag.split(" ")[0]!;
    for (const command of row.commands ?? []) {
      const key = `${command} ${flag}`;
      assert.equal(seen.get(key), undefined, `${key} is set by ${seen.get(key)} and ${row.name}`);
      seen.set(key, row.name);
    }
  }
  assert.ok(seen.has("doctor --timeout") && seen.has("auth setup --timeout"));
});

Deno.test("a required setting that no layer gives is one more problem, beside the others", () => {
  const read = new SettingsReader({
    flags: { PRODUCER_LEASE_TTL_SECONDS: "x" },
    required: [{ name: "IMAP_USER", problem: "--username (or IMAP_USER) is required" }],
  });
  read.integer("PRODUCER_LEASE_TTL_SECONDS");
  const problems = problemsOf(read);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /^--lease-ttl must be a whole number >= 2/);
  assert.equal(problems[1], "--username (or IMAP_USER) is required");
  const given = new SettingsReader({
    env: { IMAP_USER: "a@example.test" },
    required: [{ name: "IMAP_USER", problem: "missing" }],
  });
  assert.deepEqual(problemsOf(given), []);
});

Deno.test("numericDefault() reads a default from the settings table and refuses a non-numeric one", () => {
  assert.equal(
    numericDefault("WORKER_CONCURRENCY"),
    Number(variableSpec("WORKER_CONCURRENCY").default),
  );
  assert.equal(numericDefault("PRODUCER_LEASE_TTL_SECONDS"), 30);
  assert.throws(() => numericDefault("IMAP_HOST"), /no numeric default/);
});
