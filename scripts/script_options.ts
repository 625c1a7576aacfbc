/**
 * The command-line options of the project's scripts (benchmarks, fault
 * drills): `node:util`'s `parseArgs`, strict, with `--help` (`-h`), which
 * prints the script's own documentation comment (its usage lines and what it
 * measures), and mistakes that end the script with exit code 2 and one
 * message naming each, before anything starts. An unknown or misspelt option
 * is such a mistake: a benchmark that silently ran its defaults would print
 * figures for a run nobody asked for.
 *
 *   const values = scriptOptions(import.meta.filename!, {
 *     runs: { type: "string", default: "3" },
 *   });
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

const HELP = { help: { type: "boolean", short: "h" } } as const;

/** What {@link readScriptOptions} found: the values, or why there are none. */
export type ScriptOptionsResult<O extends ParseArgsOptionsConfig> =
  | { readonly kind: "values"; readonly values: ReturnType<typeof parseOptions<O>> }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "problem"; readonly message: string };

function parseOptions<O extends ParseArgsOptionsConfig>(args: readonly string[], options: O) {
  return parseArgs({ args: [...args], options: { ...options, ...HELP }, strict: true }).values;
}

/** Parses `args` for the script at `scriptPath` without exiting (the testable part). */
export function readScriptOptions<const O extends ParseArgsOptionsConfig>(
  scriptPath: string,
  args: readonly string[],
  options: O,
): ScriptOptionsResult<O> {
  let values: ReturnType<typeof parseOptions<O>>;
  try {
    values = parseOptions(args, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: "problem", message: `${message}\nRun with --help for the options.` };
  }
  // The merged options' type is not resolved inside this generic function; `help` is there.
  if ((values as { help?: boolean }).help) {
    return { kind: "help", text: documentationComment(scriptPath) };
  }
  return { kind: "values", values };
}

/** {@link readScriptOptions} of `Deno.args`: prints help and exits 0, or a problem and exits 2. */
export function scriptOptions<const O extends ParseArgsOptionsConfig>(
  scriptPath: string,
  options: O,
): ReturnType<typeof parseOptions<O>> {
  const result = readScriptOptions(scriptPath, Deno.args, options);
  if (result.kind === "help") {
    console.log(result.text);
    Deno.exit(0);
  }
  if (result.kind === "problem") {
    console.error(result.message);
    Deno.exit(2);
  }
  return result.values;
}

/** The text of the first `/** … *\/` comment of the file at `path`, without its `*` margins. */
export function documentationComment(path: string): string {
  const source = Deno.readTextFileSync(path);
  const body = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
  return body.split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .filter((line) => line.trim() !== "@module")
    .join("\n")
    .trim();
}
