/**
 * Entry point of the `ingest` executable. The only place that exits the process.
 *
 * @module
 */

import { CommanderError } from "@commander-js/extra-typings";
import { App } from "./app.ts";
import { ExitCode, exitCodeFor, messageFor } from "./exit_codes.ts";
import { OutputClosedError } from "./output_stream.ts";
import { buildProgram } from "./program.ts";
import { processRuntime, type Runtime } from "./runtime.ts";

/** Runs the CLI with `args` and returns the exit code; never exits the process. */
export async function runCli(args: readonly string[], runtime: Runtime): Promise<number> {
  const app = new App(runtime);
  // `ingest … | head`: the reader had enough; whatever followed is not a failure.
  const readerLeft = (error?: unknown) =>
    error instanceof OutputClosedError || runtime.outputClosed?.() === true;
  try {
    const program = buildProgram(app);
    await program.parseAsync([...args], { from: "user" });
    return readerLeft() ? ExitCode.Ok : app.exitCode;
  } catch (error) {
    if (readerLeft(error)) return ExitCode.Ok;
    // Commander already printed its own usage errors and help.
    if (!(error instanceof CommanderError)) runtime.stderr(messageFor(error) + "\n");
    return exitCodeFor(error);
  } finally {
    await app.close();
  }
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, processRuntime()));
}
