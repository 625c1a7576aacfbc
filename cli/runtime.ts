/**
 * What a command may touch of the outside world, passed in so that the whole
 * command tree runs inside tests without exiting the process.
 *
 * @module
 */

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
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

const encoder = new TextEncoder();

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
  return {
    env: Deno.env.toObject(),
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    readLine: readStdinLine,
    interactive: Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    signal: controller.signal,
  };
}

function writeAll(target: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(target.writeSync(bytes));
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
