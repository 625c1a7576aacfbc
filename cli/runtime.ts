/**
 * What a command may touch of the outside world, passed in so that the whole
 * command tree runs inside tests without exiting the process.
 *
 * @module
 */

import { closableOutput, OutputClosedError } from "./output_stream.ts";
import { createSignalGate } from "./signal_gate.ts";

/** Standard streams, environment and terminal facts of one CLI run. */
export interface Runtime {
  /** Process environment. */
  readonly env: Record<string, string>;
  /** Writes command results (tables, JSON). */
  readonly stdout: (text: string) => void;
  /** Writes logs and diagnostics. */
  readonly stderr: (text: string) => void;
  /** Reads one line from standard input; `null` at end of input. */
  readonly readLine: () => Promise<string | null>;
  /** Whether stdin and stdout are terminals (a person is there to answer). */
  readonly interactive: boolean;
  /** Whether stderr is a terminal (pretty logs, progress bars). */
  readonly stderrIsTerminal: boolean;
  /** Aborted on SIGINT/SIGTERM, and when the reader of stdout went away. */
  readonly signal: AbortSignal;
  /**
   * Whether stdout's reader went away (`| head`): the run then ends quietly
   * with exit code 0. Default: never.
   */
  readonly outputClosed?: () => boolean;
}

/** The real process: Deno's streams, environment and signals. */
export function processRuntime(): Runtime {
  const controller = new AbortController();
  const classify = createSignalGate();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(name, () => {
      const verdict = classify(name);
      if (verdict === "force") Deno.exit(130); // a second request: stop now
      if (verdict === "stop") controller.abort(new DOMException(`received ${name}`, "AbortError"));
    });
  }
  const stdout = closableOutput(Deno.stdout, () => {
    controller.abort(new DOMException("standard output closed", "AbortError"));
  });
  // A closed stderr loses log lines; it stops nothing.
  const stderr = closableOutput(Deno.stderr, () => {});
  return {
    env: Deno.env.toObject(),
    stdout: (text) => stdout.write(text),
    stderr: (text) => {
      if (!stderr.closed) ignoreOutputClosed(() => stderr.write(text));
    },
    outputClosed: () => stdout.closed,
    readLine: readStdinLine,
    interactive: Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    signal: controller.signal,
  };
}

function ignoreOutputClosed(write: () => void): void {
  try {
    write();
  } catch (error) {
    if (!(error instanceof OutputClosedError)) throw error;
  }
}

let stdinLines: AsyncIterator<string> | undefined;

async function readStdinLine(): Promise<string | null> {
  stdinLines ??= Deno.stdin.readable
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(splitLines())[Symbol.asyncIterator]();
  const next = await stdinLines.next();
  return next.done ? null : next.value;
}

function splitLines(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer);
    },
  });
}
