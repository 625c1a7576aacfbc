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

function parseOptions<O extends ParseArgsOptionsConfig>(args: readonly string[], options: O) {
  return parseArgs({
    args: [...args],
    options: { ...options, ...HELP },
    strict: true,
    allowPositionals: true,
  });
}

/** The option values of a script's `options`. */
export type ScriptValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseOptions<O>
>["values"];

/** What {@link readScriptOptions} found: the values, or why there are none. */
export type ScriptOptionsResult<O extends ParseArgsOptionsConfig> =
  | {
    readonly kind: "values";
    readonly values: ScriptValues<O>;
    /** The arguments that are not options, one for each name asked for. */
    readonly positionals: readonly string[];
  }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "problem"; readonly message: string };

/**
 * Parses `args` for the script at `scriptPath` without exiting (the testable
 * part). `positionalNames` name the arguments that are not options, all
 * required (none by default).
 */
export function readScriptOptions<const O extends ParseArgsOptionsConfig>(
  scriptPath: string,
  args: readonly string[],
  options: O,
  positionalNames: readonly string[] = [],
): ScriptOptionsResult<O> {
  let parsed: ReturnType<typeof parseOptions<O>>;
  try {
    parsed = parseOptions(args, options);
  } catch (error) {
    return problem(error instanceof Error ? error.message : String(error));
  }
  // The merged options' type is not resolved inside this generic function; `help` is there.
  if ((parsed.values as { help?: boolean }).help) {
    return { kind: "help", text: documentationComment(scriptPath) };
  }
  const { positionals } = parsed;
  if (positionals.length !== positionalNames.length) {
    const wanted = positionalNames.length === 0 ? "no arguments" : positionalNames.join(" ");
    const got = positionals.length === 0 ? "none" : positionals.join(" ");
    return problem(`Expected ${wanted} besides the options, got ${got}`);
  }
  return { kind: "values", values: parsed.values, positionals };
}

function problem(message: string): { kind: "problem"; message: string } {
  return { kind: "problem", message: `${message}\nRun with --help for the options.` };
}

/** {@link readScriptOptions} of `Deno.args`: prints help and exits 0, or a problem and exits 2. */
export function scriptArguments<const O extends ParseArgsOptionsConfig>(
  scriptPath: string,
  options: O,
  positionalNames: readonly string[] = [],
): { values: ScriptValues<O>; positionals: readonly string[] } {
  const result = readScriptOptions(scriptPath, Deno.args, options, positionalNames);
  if (result.kind === "help") {
    console.log(result.text);
    Deno.exit(0);
  }
  if (result.kind === "problem") {
    console.error(result.message);
    Deno.exit(2);
  }
  return result;
}

/** {@link scriptArguments} of a script that takes options only: their values. */
export function scriptOptions<const O extends ParseArgsOptionsConfig>(
  scriptPath: string,
  options: O,
): ScriptValues<O> {
  return scriptArguments(scriptPath, options).values;
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
