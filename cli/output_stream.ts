/**
 * Writing to standard output when the reader may go away: `ingest … | head`
 * closes the pipe after the lines it wanted, and every later write fails with
 * EPIPE. That is the reader's way of saying "enough", not a failure: the
 * first BrokenPipe marks the output closed and tells the run to stop (so a
 * producer or worker ends as on Ctrl-C), and `cli/main.ts` then exits 0
 * without a message. Each write after that throws {@link OutputClosedError},
 * so nothing that needed the output (the stdout sink) counts as delivered.
 *
 * @module
 */

import { IngestError } from "../src/errors.ts";

/** Standard output was closed by its reader; the run stops quietly. */
export class OutputClosedError extends IngestError {
  /** Builds the error (code `OUTPUT_CLOSED`, not retryable). */
  constructor() {
    super(
      "OUTPUT_CLOSED",
      "standard output was closed by its reader (for example `| head`); stopping",
      false,
    );
  }
}

/** Something written to synchronously, like `Deno.stdout`. */
export interface SyncWriter {
  writeSync(bytes: Uint8Array): number;
}

/** A text output that knows whether its reader went away. */
export interface ClosableOutput {
  /** Writes all of `text`; throws {@link OutputClosedError} once the reader is gone. */
  write(text: string): void;
  /** Whether a write found the reader gone. */
  readonly closed: boolean;
}

const encoder = new TextEncoder();

/** Wraps `target`; `onClosed` runs once, on the first broken pipe. */
export function closableOutput(target: SyncWriter, onClosed: () => void): ClosableOutput {
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    write(text) {
      if (closed) throw new OutputClosedError();
      let bytes = encoder.encode(text);
      try {
        while (bytes.length > 0) bytes = bytes.subarray(target.writeSync(bytes));
      } catch (error) {
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
        closed = true;
        onClosed();
        throw new OutputClosedError();
      }
    },
  };
}
