/**
 * Runs the `ingest` CLI inside the test process (through `runCli` with a test
 * runtime) or as a real child process, capturing its output.
 *
 * @module
 */

import { runCli } from "../../cli/main.ts";
import type { Runtime } from "../../cli/runtime.ts";

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runIngest}. */
export interface RunIngestOptions {
  /**
   * Environment seen by the command (nothing is inherited, so the developer's
   * .env and shell cannot leak in). `HEALTH_PORT` defaults to 0 so parallel
   * tests never fight over port 8080; pass a free port to test the endpoints.
   */
  env?: Record<string, string>;
  /** Lines answered to prompts, in order. */
  stdinLines?: string[];
  /** Pretend to be on a terminal. */
  interactive?: boolean;
  signal?: AbortSignal;
}

/**
 * Runs `ingest <args>` in-process. Without an `--env-file` in `args` it adds
 * `--no-env-file`, so no `.env` of the checkout leaks into a test.
 */
export async function runIngest(
  args: string[],
  options: RunIngestOptions = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const lines = [...(options.stdinLines ?? [])];
  const runtime: Runtime = {
    env: { LOG_FORMAT: "json", HEALTH_PORT: "0", ...options.env },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readLine: () => Promise.resolve(lines.shift() ?? null),
    interactive: options.interactive ?? false,
    stderrIsTerminal: false,
    signal: options.signal ?? new AbortController().signal,
  };
  const withEnvFile = args.includes("--env-file") ? args : ["--no-env-file", ...args];
  const code = await runCli(withEnvFile, runtime);
  return { code, stdout, stderr };
}

/**
 * The program real processes run: cli/main.ts, or the file `INGEST_TEST_ENTRY`
 * names (the bundle of `deno task bundle`), to run these tests against the build
 * installed on PATH: `INGEST_TEST_ENTRY=$PWD/dist/bundle/main.js deno task test tests/…`.
 */
const MAIN = Deno.env.get("INGEST_TEST_ENTRY") ??
  new URL("../../cli/main.ts", import.meta.url).pathname;

/** Options of {@link spawnIngest}. */
export interface SpawnIngestOptions {
  env?: Record<string, string>;
  /** Text written to the child's stdin (then closed). */
  stdin?: string;
}

/** Starts `deno run -A <MAIN> <args>` as a real process (for signals, SIGKILL, stdin). */
export function spawnIngest(args: string[], options: SpawnIngestOptions = {}): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, "--no-env-file", ...args],
    env: { LOG_FORMAT: "json", HEALTH_PORT: "0", ...options.env },
    clearEnv: false,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close());
  }
  return child;
}

/** Runs a real `ingest` process to completion. */
export async function execIngest(
  args: string[],
  options: SpawnIngestOptions = {},
): Promise<CliResult> {
  const output = await spawnIngest(args, options).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
