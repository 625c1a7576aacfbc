/**
 * `--sink exec:COMMAND`: runs `sh -c COMMAND` once per entry with the JSON
 * document on its standard input.
 *
 * Exit 0 acknowledges. Exit 75 (EX_TEMPFAIL, sysexits.h) asks for a retry;
 * any other exit code is a failure that is retried too, until the attempts run
 * out and the entry goes to the DLQ. The command's stderr is passed through
 * to the worker's stderr; its stdout is discarded (the worker's stdout is
 * for results). Its environment is an allow-list (see `child_env.ts`): the
 * worker's secrets never reach it.
 *
 * @module
 */

import { RetryableError } from "../errors.ts";
import { childEnvironment } from "./child_env.ts";
import { deliveryJson, type Sink } from "./sink.ts";

/** The exit code that asks for a retry (EX_TEMPFAIL). */
export const EXIT_TEMPFAIL = 75;

/** Options of {@link createExecSink}. */
export interface ExecSinkOptions {
  /** A shell command line, run with `sh -c`. */
  command: string;
  /**
   * The worker's environment, filtered by {@link childEnvironment}: only PATH,
   * HOME, LANG, LC_*, TZ and the `pass` names reach the command. Default `{}`.
   */
  parentEnv?: Readonly<Record<string, string>>;
  /** Further variables of `parentEnv` to pass on (`EXEC_SINK_ENV`). Default none. */
  pass?: readonly string[];
}

const encoder = new TextEncoder();

/** A sink that pipes each entry into a new process of `options.command`. */
export function createExecSink(options: ExecSinkOptions): Sink {
  const base = childEnvironment(options.parentEnv ?? {}, options.pass);
  return {
    kind: "exec",
    async handle(delivery) {
      const child = new Deno.Command("sh", {
        args: ["-c", options.command],
        clearEnv: true,
        env: {
          ...base,
          INGEST_ENTRY_ID: delivery.id,
          INGEST_IDEMPOTENCY_KEY: delivery.idempotencyKey,
          INGEST_ATTEMPT: String(delivery.attempt),
          INGEST_ENTRY_TYPE: delivery.type,
        },
        stdin: "piped",
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      const stop = () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already exited */ }
      };
      delivery.signal.addEventListener("abort", stop, { once: true });
      try {
        const writer = child.stdin.getWriter();
        try {
          await writer.write(encoder.encode(deliveryJson(delivery) + "\n"));
          await writer.close();
        } catch {
          // The command may exit without reading its input; its exit code decides.
        }
        const status = await child.status;
        if (status.success) return;
        if (status.code === EXIT_TEMPFAIL) {
          throw new RetryableError("exec command asked for a retry (exit 75, EX_TEMPFAIL)");
        }
        throw new RetryableError(
          status.signal
            ? `exec command was killed by ${status.signal}`
            : `exec command failed with exit code ${status.code}`,
        );
      } finally {
        delivery.signal.removeEventListener("abort", stop);
      }
    },
    close: () => Promise.resolve(),
  };
}
