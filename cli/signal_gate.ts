/**
 * Decides what a stop signal means. The first SIGINT/SIGTERM asks for a
 * graceful stop; a later one forces the process to exit at once. A copy of the
 * first signal arriving within a few hundred milliseconds is not a second
 * request: `deno task` (the README's way to run `ingest`) forwards every signal
 * it receives to its child on Unix, and a terminal's Ctrl-C goes to the whole
 * process group, so one keypress reaches the program twice, about a
 * millisecond apart. Pure, with an injectable clock.
 *
 * @module
 */

/** What one received signal asks for. */
export type SignalVerdict = "stop" | "duplicate" | "force";

/** Options of {@link createSignalGate}. */
export interface SignalGateOptions {
  /**
   * A repeat of the first signal within this many milliseconds of it is the
   * same request delivered twice. Default 500 (far more than the forwarding
   * delay; less than a person needs to press Ctrl-C again on purpose).
   */
  duplicateWindowMs?: number;
  /** Clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** Returns a function that classifies each received signal, in arrival order. */
export function createSignalGate(options: SignalGateOptions = {}): (name: string) => SignalVerdict {
  const window = options.duplicateWindowMs ?? 500;
  const now = options.now ?? (() => performance.now());
  let first: { name: string; at: number } | undefined;
  return (name) => {
    const at = now();
    if (first === undefined) {
      first = { name, at };
      return "stop";
    }
    return name === first.name && at - first.at < window ? "duplicate" : "force";
  };
}
