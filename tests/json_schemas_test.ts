/**
 * The JSON Schemas of docs/schemas/ themselves: valid draft 2020-12, snake_case,
 * one for every `--json` command and `/status`, and none that no test uses.
 * The commands' real output is validated where it is produced
 * (tests/json_output_test.ts, tests/stream_payload_schema_test.ts,
 * tests/health_test.ts, tests/auth_test.ts).
 */

import assert from "node:assert/strict";
import { App } from "../cli/app.ts";
import { completionTree } from "../cli/commands/completions.ts";
import { buildProgram } from "../cli/program.ts";
import { SCHEMA_VERSION } from "../src/stream/entry.ts";
import {
  assertMatchesSchema,
  closedSchema,
  readSchemaFiles,
  schemaFile,
  schemaValidator,
} from "./harness/json_schema.ts";

const DRAFT = "https://json-schema.org/draft/2020-12/schema";
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Every property name a schema declares, wherever it is nested. */
function propertyNames(schema: unknown, names: string[] = []): string[] {
  if (Array.isArray(schema)) schema.forEach((item) => propertyNames(item, names));
  if (typeof schema !== "object" || schema === null) return names;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "const" || key === "enum") continue;
    if (key === "properties") names.push(...Object.keys(value as object));
    propertyNames(key === "properties" || key === "$defs" ? Object.values(value) : value, names);
  }
  return names;
}

/** The schema names the program's commands need: `<path>` per `--json`, `<path>_status` per `/status`. */
function neededSchemas(): string[] {
  const app = new App({
    env: {},
    stdout: () => {},
    stderr: () => {},
    readLine: () => Promise.resolve(null),
    interactive: false,
    stderrIsTerminal: false,
    signal: new AbortController().signal,
  });
  const nodes = completionTree(buildProgram(app)).slice(1);
  const has = (node: (typeof nodes)[number], flag: string) =>
    node.options.some((o) => o.word === flag);
  const name = (node: (typeof nodes)[number]) => node.path.slice(1).join("_");
  return [
    ...nodes.filter((n) => has(n, "--json")).map(name),
    // A /status server: the commands with a health port, and the standalone exporter.
    ...nodes.filter((n) => has(n, "--health-port") || name(n) === "metrics_serve")
      .map((n) => `${name(n)}_status`),
  ];
}

/**
 * Names passed as a literal to assertMatchesSchema() in any test file, or to
 * runMatchingSchema() (tests/json_output_test.ts: runs a command and asserts).
 */
async function namesValidatedByTests(): Promise<Set<string>> {
  const names = new Set<string>();
  const visit = async (dir: URL): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await visit(new URL(`${entry.name}/`, dir));
      // This file checks the schemas themselves: its own calls do not count as real output.
      else if (entry.name.endsWith(".ts") && new URL(entry.name, dir).href !== import.meta.url) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        for (
          const m of text.matchAll(/(?:assertMatchesSchema|runMatchingSchema)\(\s*"([a-z0-9_.]+)"/g)
        ) names.add(m[1]!);
      }
    }
  };
  await visit(new URL("./", import.meta.url));
  return names;
}

Deno.test("every schema file is draft 2020-12, named by its $id, strict-valid and snake_case", async () => {
  const files = await readSchemaFiles();
  assert.ok(files.size >= 15, `only ${files.size} schema files`);
  for (const [file, schema] of files) {
    assert.equal(schema.$schema, DRAFT, file);
    assert.equal(schema.$id, file, `${file}: $id is the file name, so $refs resolve beside it`);
    assert.match(file, /^[a-z0-9_]+(\.v\d+)?\.schema\.json$/, file);
    assert.equal(typeof schema.title, "string", `${file} has a title`);
    assert.equal(typeof schema.description, "string", `${file} has a description`);
    for (const name of propertyNames(schema)) assert.match(name, SNAKE, `${file}: ${name}`);
  }
  // Strict mode compiles each one (unknown keywords, formats and bad $refs throw), open and closed.
  for (const closed of [false, true]) {
    const ajv = await schemaValidator({ closed });
    for (const file of files.keys()) assert.ok(ajv.getSchema(file), file);
  }
});

Deno.test("every --json command and every /status has a schema file", async () => {
  const files = await readSchemaFiles();
  const needed = neededSchemas();
  assert.ok(needed.includes("dlq_list") && needed.includes("work_status"), needed.join(" "));
  const missing = needed.filter((name) => !files.has(schemaFile(name)));
  assert.deepEqual(missing, [], `write docs/schemas/<name>.schema.json for: ${missing.join(", ")}`);
});

Deno.test("every schema file is validated against real output by some test (no orphan)", async () => {
  const files = [...(await readSchemaFiles()).keys()];
  const validated = await namesValidatedByTests();
  const orphans = files.filter((file) => ![...validated].some((name) => schemaFile(name) === file));
  assert.deepEqual(orphans, [], "schema files no test validates output against");
  const unknown = [...validated].filter((name) => !files.includes(schemaFile(name)));
  assert.deepEqual(unknown, [], "tests name schemas that do not exist");
});

Deno.test("the stream payload schema carries SCHEMA_VERSION in its file name and its const", async () => {
  const files = await readSchemaFiles();
  const payload = files.get(`stream_payload.v${SCHEMA_VERSION}.schema.json`);
  assert.ok(payload, `docs/schemas/stream_payload.v${SCHEMA_VERSION}.schema.json exists`);
  const defs = payload.$defs as Record<string, { properties: Record<string, { const: number }> }>;
  assert.equal(defs.email!.properties.schema_version!.const, SCHEMA_VERSION);
  assert.equal(defs.mailbox_reset!.properties.schema_version!.const, SCHEMA_VERSION);
  const versions = [...files.keys()].filter((f) => f.startsWith("stream_payload."));
  assert.deepEqual(versions, [`stream_payload.v${SCHEMA_VERSION}.schema.json`]);
});

Deno.test("closedSchema() rejects an undocumented key; the published schema accepts it", async () => {
  const document = {
    stream: "emails:dlq",
    purged: 2,
    missing: [],
    partitions: [{ partition: 0, stream: "emails:dlq", purged: 2 }],
  };
  await assertMatchesSchema("dlq_purge", document);
  await assert.rejects(
    assertMatchesSchema("dlq_purge", { ...document, extra: 1 }),
    /must NOT have additional properties/,
  );
  await assert.rejects(assertMatchesSchema("dlq_purge", { stream: "x" }), /purged/);
  const open = await schemaValidator({ closed: false });
  assert.equal(open.validate("dlq_purge.schema.json", { ...document, extra: 1 }), true);
  assert.deepEqual(closedSchema({ const: { properties: 1 } }), { const: { properties: 1 } });
});
