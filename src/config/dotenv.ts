/**
 * Reading `.env` files with the `dotenv` package's `parse`, the reference
 * reading of the format (quoted multi-line values, `#` comments only outside
 * quotes, `export`, backticks), and spotting names `ingest` does not read: a
 * misspelt variable in `.env` is otherwise silently ignored.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { VARIABLES, type VariableSpec } from "./variables.ts";

/**
 * Parses the text of a `.env` file into a map. Later keys win. `dotenv` is
 * loaded here, so a run without a `.env` file (or with an empty one) never loads it.
 */
export async function parseDotenv(text: string): Promise<Record<string, string>> {
  if (text.trim() === "") return {};
  const { parse } = await import("dotenv");
  return { ...parse(text) };
}

/** Options of {@link readDotenvFile}. */
export interface ReadDotenvOptions {
  /**
   * The file was named explicitly (`--env-file PATH`): a missing file is a
   * {@link ConfigError}, not an empty map. Default `false`.
   */
  readonly required?: boolean;
}

/** Reads a `.env` file; a missing file is an empty map unless `required`. */
export async function readDotenvFile(
  path: string,
  options: ReadDotenvOptions = {},
): Promise<Record<string, string>> {
  try {
    return await parseDotenv(await Deno.readTextFile(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    if (!options.required) return {};
    throw new ConfigError([
      `--env-file ${path}: no such file. Give an existing file, or --no-env-file to read none ` +
      `(e.g. ingest --env-file /etc/ingest/ingest.env doctor)`,
    ], { cause: error });
  }
}

/** A name in `.env` that no configuration variable has. */
export interface UnknownDotenvName {
  /** The name as written. */
  readonly name: string;
  /** The closest known variable, when one is close enough to be a likely misspelling. */
  readonly closest: string | null;
}

/**
 * The names of `values` that are not configuration variables, each with the
 * closest known name (by edit distance, case-insensitive) when it is within a
 * third of the name's length.
 */
export function unknownDotenvNames(
  values: Record<string, string>,
  known: readonly string[] = (VARIABLES as readonly VariableSpec[]).flatMap((variable) =>
    variable.secret === true ? [variable.name, `${variable.name}_FILE`] : [variable.name]
  ),
): UnknownDotenvName[] {
  const names = new Set(known);
  return Object.keys(values).filter((name) => !names.has(name)).map((name) => {
    let closest: string | null = null;
    let best = Math.max(2, Math.floor(name.length / 3)) + 1;
    for (const candidate of known) {
      const distance = editDistance(name.toUpperCase(), candidate.toUpperCase(), best);
      if (distance < best) [best, closest] = [distance, candidate];
    }
    return { name, closest };
  });
}

/** One warning line per unknown name, saying what to do. */
export function dotenvWarnings(path: string, values: Record<string, string>): string[] {
  return unknownDotenvNames(values).map(({ name, closest }) =>
    closest
      ? `warning: ${path} sets ${name}, which ingest does not read: did you mean ${closest}?`
      : `warning: ${path} sets ${name}, which ingest does not read (see .env.example for the variables)`
  );
}

/** Levenshtein distance of `a` and `b`, or `limit` when it is at least `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowBest = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      rowBest = Math.min(rowBest, current[j]!);
    }
    if (rowBest >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
