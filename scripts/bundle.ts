/**
 * Bundles the CLI with `deno bundle` into plain JavaScript modules that need
 * neither node_modules nor a deno.json: `deno task bundle` writes
 * `dist/bundle/main.js` (or `--outdir <dir>`) and prints how to run and
 * install it. This is the build `ingest` is installed on PATH from (README,
 * Installation).
 *
 * Why: from source, every start resolves and loads ≈ 700 modules one by one
 * (ours, and the npm packages' CommonJS files through Deno's Node layer). The
 * bundle is ≈ 80 files, split by command the way `cli/` loads them (code
 * splitting keeps `--help` from loading the producer), and `produce --once`
 * of one message costs ≈ 50 ms less CPU (README, Performance). `deno bundle`
 * fetches esbuild from the npm registry on its first use.
 *
 *   deno task bundle [--outdir dist/bundle]
 *
 * @module
 */

import { installCommand, PERMISSIONS, v8FlagsArgument } from "./run_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** What to bundle and where. */
export interface BundleOptions {
  /** The program's entry point, relative to `cwd`. */
  readonly entry: string;
  /** Where the `.js` files go (created; earlier `.js` files in it are removed). */
  readonly outdir: string;
  /** The checkout whose deno.json and lock resolve the imports; default this one. */
  readonly cwd?: string;
}

/** Bundles `entry` into `outdir`; returns the path of the bundled entry. Throws with deno's stderr. */
export async function bundle(options: BundleOptions): Promise<string> {
  await Deno.mkdir(options.outdir, { recursive: true });
  // Chunk names carry content hashes: stale chunks of an earlier build would pile up.
  for await (const file of Deno.readDir(options.outdir)) {
    if (file.isFile && file.name.endsWith(".js")) {
      await Deno.remove(`${options.outdir}/${file.name}`);
    }
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      // Class and function names as written: errors carry their class name (`error.name`).
      "--keep-names",
      "--outdir",
      options.outdir,
      options.entry,
    ],
    cwd: options.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`deno bundle ${options.entry} failed (exit ${output.code}):\n${stderr}`);
  }
  const name = options.entry.split("/").at(-1)!.replace(/\.ts$/, ".js");
  return `${options.outdir}/${name}`;
}

/** Parses `--outdir <dir>`; returns the outdir or the problems with the arguments. */
function parseArgs(args: readonly string[]): { outdir: string } | { problems: string[] } {
  let outdir = "dist/bundle";
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--outdir" && args[i + 1] !== undefined) outdir = args[++i]!;
    else if (args[i] === "--outdir") problems.push("--outdir needs a directory");
    else problems.push(`unknown argument ${args[i]}`);
  }
  return problems.length > 0 ? { problems } : { outdir };
}

if (import.meta.main) {
  const parsed = parseArgs(Deno.args);
  if ("problems" in parsed) {
    console.error(`Cannot bundle: ${parsed.problems.join("; ")} (usage: --outdir <dir>)`);
    Deno.exit(2);
  }
  const outdir = parsed.outdir.startsWith("/") ? parsed.outdir : `${Deno.cwd()}/${parsed.outdir}`;
  try {
    const entry = await bundle({ entry: "cli/main.ts", outdir });
    const shown = entry.startsWith(`${Deno.cwd()}/`) ? entry.slice(Deno.cwd().length + 1) : entry;
    console.error(
      [
        `Built ${shown}. Run it:`,
        `  deno run ${PERMISSIONS.join(" ")} ${v8FlagsArgument()} ${shown} --help`,
        `or put it on PATH as \`ingest\`:`,
        `  ${installCommand(entry)}`,
      ].join("\n"),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
