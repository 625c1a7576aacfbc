/**
 * Builds the single `ingest` executable with `deno compile`. Run:
 * `deno task compile` (writes `dist/ingest`), or with `--output <path>` and
 * `--target <triple>`.
 *
 * `deno compile` needs Deno's runtime binary (denort) for the target. It is
 * downloaded from dl.deno.land on first use and cached in DENO_DIR; set
 * `DENORT_BIN=/path/to/denort` to use one you already have (offline
 * machines). When neither works this script stops with an explanation
 * instead of the raw network error.
 *
 * The binary gets only the permissions `ingest` needs: network (Redis, IMAP,
 * OAuth2, webhooks, metrics), environment (configuration), read/write (the
 * `.env` file, the token file and its lock, file sinks), run (the browser
 * opener of `auth setup`, the exec sink) and sys (OS facts that ioredis and
 * google-auth-library read through node:os).
 *
 * It also gets the V8 flags of the `ingest` task (scripts/run_flags.ts), so
 * the binary keeps its memory bounded the same way.
 *
 * @module
 */

import { installCommand, PERMISSIONS, v8FlagsArgument } from "./run_flags.ts";

const ROOT = new URL("../", import.meta.url);

/** Where a usable denort runtime is, or why there is none. */
export type RuntimeLookup =
  | { readonly found: true; readonly source: "DENORT_BIN" | "cache"; readonly path: string }
  | { readonly found: false; readonly reason: string };

/** The DENO_DIR in use (`deno info --json`), or the default location. */
async function denoDir(): Promise<string> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  try {
    const output = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { denoDir?: string };
    if (info.denoDir) return info.denoDir;
  } catch { /* fall through to the default */ }
  return `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The archive `deno compile` downloads for `target`, inside DENO_DIR. */
export async function cachedRuntimePath(target: string = Deno.build.target): Promise<string> {
  return `${await denoDir()}/dl/release/v${Deno.version.deno}/denort-${target}.zip`;
}

/** Finds a runtime without downloading anything. */
export async function findRuntime(target: string = Deno.build.target): Promise<RuntimeLookup> {
  const explicit = Deno.env.get("DENORT_BIN");
  if (explicit) {
    return await isFile(explicit)
      ? { found: true, source: "DENORT_BIN", path: explicit }
      : { found: false, reason: `DENORT_BIN=${explicit} is not a file` };
  }
  const cached = await cachedRuntimePath(target);
  if (await isFile(cached)) return { found: true, source: "cache", path: cached };
  return {
    found: false,
    reason: `no denort runtime for Deno ${Deno.version.deno} (${target}): DENORT_BIN is unset ` +
      `and ${cached} is not cached`,
  };
}

/** The explanation printed when compiling failed for lack of a runtime; `problem` says what went wrong. */
export function runtimeHelp(target: string, cached: string, problem: string): string {
  const zip = `denort-${target}.zip`;
  return [
    `Cannot compile: ${problem}.`,
    `deno compile needs Deno's runtime (denort ${Deno.version.deno}, ${target}), which it`,
    `downloads from https://dl.deno.land on first use. Fix one of these ways:`,
    `  - on a machine with internet access run \`deno task compile\` once (it caches ${zip}),`,
    `  - or download https://dl.deno.land/release/v${Deno.version.deno}/${zip}, unzip it and`,
    `    run: DENORT_BIN=/path/to/denort deno task compile`,
    `  - or copy the archive to ${cached}`,
    `Without a binary, run from source: deno task ingest <command>, or install it on PATH:`,
    `  deno task bundle && ${installCommand("dist/bundle/main.js")}`,
  ].join("\n");
}

interface CompileOptions {
  output: string;
  target: string | undefined;
}

function parseArgs(args: readonly string[]): CompileOptions {
  const options: CompileOptions = { output: "dist/ingest", target: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === "--output" || arg === "--target") && value !== undefined) {
      if (arg === "--output") options.output = value;
      else options.target = value;
      i++;
    } else {
      throw new Error(
        `Cannot compile: unknown argument ${arg} (use --output <path>, --target <triple>)`,
      );
    }
  }
  return options;
}

/** Runs `deno compile`; returns the exit code. */
export async function compile(args: readonly string[]): Promise<number> {
  const options = parseArgs(args);
  const target = options.target ?? Deno.build.target;
  const runtime = await findRuntime(target);
  const explicit = Deno.env.get("DENORT_BIN");
  if (explicit && !runtime.found) {
    console.error(runtimeHelp(target, await cachedRuntimePath(target), runtime.reason));
    return 1;
  }
  const compileArgs = [
    "compile",
    ...PERMISSIONS,
    v8FlagsArgument(),
    "--output",
    options.output,
    ...(options.target ? ["--target", options.target] : []),
    "cli/main.ts",
  ];
  console.error(`$ deno ${compileArgs.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: compileArgs,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code === 0) {
    console.error(stderr.trimEnd());
    console.error(`Built ${options.output}: run ${options.output} --help`);
    return 0;
  }
  if (/denort|dl\.deno\.land|base binary/i.test(stderr)) {
    console.error(
      stderr.split("\n").filter((l) => /error|Caused|\d: /.test(l)).slice(0, 4).join("\n"),
    );
    console.error(
      `\n${
        runtimeHelp(
          target,
          await cachedRuntimePath(target),
          "downloading the denort runtime failed",
        )
      }`,
    );
  } else {
    console.error(stderr);
  }
  return output.code || 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await compile(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
