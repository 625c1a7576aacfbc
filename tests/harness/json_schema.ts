/**
 * Validates real command output against the JSON Schemas of `docs/schemas/`
 * (draft 2020-12) with ajv. Tests call {@link assertMatchesSchema} with the
 * schema's name as a literal, which is how tests/json_schemas_test.ts knows
 * that every schema file is exercised.
 *
 * The published schemas leave objects open (a new key is a compatible change);
 * here every object that lists its `properties` is closed, so a key the
 * program prints but the schema does not document fails the test.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";

/** The folder of the schema files. */
export const SCHEMA_DIR = new URL("../../docs/schemas/", import.meta.url);

/** A schema document as JSON. */
export type SchemaDocument = Record<string, unknown>;

/** Every `*.schema.json` of {@link SCHEMA_DIR} by file name, parsed. */
export async function readSchemaFiles(): Promise<Map<string, SchemaDocument>> {
  const files = new Map<string, SchemaDocument>();
  for await (const entry of Deno.readDir(SCHEMA_DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".schema.json")) continue;
    files.set(entry.name, JSON.parse(await Deno.readTextFile(new URL(entry.name, SCHEMA_DIR))));
  }
  return files;
}

/** The file name of schema `name`: `dlq_list` → `dlq_list.schema.json`. */
export function schemaFile(name: string): string {
  return `${name}.schema.json`;
}

/** A deep copy of `schema` whose objects with `properties` accept no other key. */
export function closedSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closedSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` and `$defs` map names to subschemas; `const`/`enum` hold values, not schemas.
    if (key === "properties" || key === "$defs") {
      copy[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, closedSchema(v)]),
      );
    } else if (key === "const" || key === "enum") {
      copy[key] = value;
    } else {
      copy[key] = closedSchema(value);
    }
  }
  if ("properties" in copy && !("additionalProperties" in copy)) copy.additionalProperties = false;
  return copy;
}

/** A strict ajv (draft 2020-12, formats asserted) holding every schema file, closed or as published. */
export async function schemaValidator(options: { closed: boolean }): Promise<Ajv2020> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  // ajv-formats is CommonJS: its plugin is the module's default export.
  formats.default(ajv);
  for (const schema of (await readSchemaFiles()).values()) {
    ajv.addSchema((options.closed ? closedSchema(schema) : schema) as SchemaDocument);
  }
  return ajv;
}

let closed: Promise<Ajv2020> | undefined;

/** Throws an AssertionError listing every violation when `value` does not match schema `name`. */
export async function assertMatchesSchema(name: string, value: unknown): Promise<void> {
  closed ??= schemaValidator({ closed: true });
  const validate: ValidateFunction | undefined = (await closed).getSchema(schemaFile(name));
  if (validate === undefined) {
    throw new AssertionError({ message: `no schema ${schemaFile(name)} in docs/schemas/` });
  }
  if (validate(value)) return;
  const problems = (validate.errors ?? []).map((e) =>
    `  ${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`
  );
  throw new AssertionError({
    message: `output does not match ${schemaFile(name)}:\n${problems.join("\n")}\n` +
      `value: ${JSON.stringify(value).slice(0, 2000)}`,
  });
}
