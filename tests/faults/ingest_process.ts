/**
 * A long-running `ingest` child process for fault scenarios: its stderr (the
 * JSON log) is collected so the scenario can check what it said, and it can
 * be stopped gracefully or killed.
 *
 * @module
 */

import { spawnIngest } from "../harness/cli.ts";

/** A running `ingest produce` or `ingest work`. */
export class IngestProcess {
  readonly #child: Deno.ChildProcess;
  #log = "";
  #exit: number | undefined;
  readonly #drained: Promise<void>;

  /** Starts `ingest <args>` with `env` (JSON logs). */
  constructor(readonly args: readonly string[], env: Record<string, string>) {
    this.#child = spawnIngest([...args], { env: { LOG_LEVEL: "info", ...env } });
    this.#drained = Promise.all([
      this.#child.stdout.pipeTo(new WritableStream()).catch(() => {}),
      this.#collect(this.#child.stderr),
    ]).then(() => {});
    this.#child.status.then((status) => (this.#exit = status.code));
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.#log += decoder.decode(chunk, { stream: true });
      // Keep the last 2 MB: enough for every line a scenario looks for.
      if (this.#log.length > 4_000_000) this.#log = this.#log.slice(-2_000_000);
    }
  }

  /** The log so far. */
  get log(): string {
    return this.#log;
  }

  /** The exit code, `undefined` while it runs. */
  get exitCode(): number | undefined {
    return this.#exit;
  }

  /** Sends `signal` and waits for the exit; returns the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    if (this.#exit === undefined) {
      try {
        this.#child.kill(signal);
      } catch { /* already gone */ }
    }
    const status = await this.#child.status;
    await this.#drained;
    return status.code;
  }
}
