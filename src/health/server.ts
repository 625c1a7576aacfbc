/**
 * The HTTP endpoints of a long-running `ingest` process: `/health` (alive),
 * `/ready` (able to do its job, with reasons), `/status` (JSON for people and
 * scripts) and `/metrics` (Prometheus text format). Loopback by default:
 * `/status` shows mailbox names and error messages, so exposing it is a choice.
 *
 * @module
 */

import type { Registry } from "prom-client";
import { ConfigError, describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { healthHandler, json } from "./endpoints.ts";
import { HEALTH_PATHS } from "./ports.ts";

/** What a readiness check returns; `checks` explains the verdict (shape chosen by the caller). */
export interface Readiness {
  /** 200 when true, 503 otherwise. */
  readonly ready: boolean;
  /** Details shown in the `/ready` body. */
  readonly checks?: unknown;
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one (see {@link HealthServer.port}). */
  port: number;
  /** Served on `/metrics`. */
  registry: Registry;
  /** Backs `/ready`: 200 when `ready`, else 503; the JSON body carries `checks`. */
  ready: () => Promise<Readiness>;
  /** Merged into the `/status` JSON after `version` and `uptime_seconds`. */
  status?: () => Promise<unknown>;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Logs start, stop and request errors. */
  logger: Logger;
  /** How the port was chosen, for the "in use" message. Default `--health-port / HEALTH_PORT`. */
  portSetting?: string;
  /** Longest `/ready` and `/status` wait for their callbacks. Default 5000 ms. */
  timeoutMs?: number;
  /** Clock in ms, for uptime. Default `Date.now`. */
  now?: () => number;
}

/** A running server. */
export interface HealthServer extends AsyncDisposable {
  /** Address the server listens on. */
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting requests and waits for open ones. */
  shutdown(): Promise<void>;
}

/**
 * Starts the server. Throws a {@link ConfigError} naming the setting when the
 * port is in use or the address cannot be bound, so the command exits with 2
 * before doing any work.
 */
export function startHealthServer(options: HealthServerOptions): HealthServer {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: "health" });
  const setting = options.portSetting ?? "--health-port / HEALTH_PORT";

  const handle = healthHandler({
    ...options,
    log,
    timeoutMs: options.timeoutMs ?? 5_000,
    now,
    startedAt: now(),
  });

  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port: options.port,
      signal: controller.signal,
      onListen: () => {},
      onError: (error) => {
        log.error("health endpoint failed", { error: describeError(error) });
        return json({ error: "internal error" }, 500);
      },
    }, handle);
  } catch (error) {
    options.signal?.removeEventListener("abort", onAbort);
    throw bindError(error, host, options.port, setting);
  }
  const port = server.addr.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info("health server listening", { url, endpoints: HEALTH_PATHS.join(" ") });
  const finished = server.finished.finally(() => {
    options.signal?.removeEventListener("abort", onAbort);
  });

  async function shutdown(): Promise<void> {
    controller.abort();
    await finished;
  }

  return { host, port, url, finished, shutdown, [Symbol.asyncDispose]: shutdown };
}

function bindError(error: unknown, host: string, port: number, setting: string): unknown {
  if (error instanceof Deno.errors.AddrInUse) {
    return new ConfigError([
      `${host}:${port} is already in use (${setting}): stop the process that listens there, ` +
      `choose another port, or use 0 for a free one`,
    ], { cause: error });
  }
  if (
    error instanceof Deno.errors.AddrNotAvailable || error instanceof Deno.errors.PermissionDenied
  ) {
    return new ConfigError([
      `cannot listen on ${host}:${port} (${setting}): ${describeError(error)}; ` +
      `use an address of this machine (127.0.0.1 by default) and a port above 1023`,
    ], { cause: error });
  }
  return error;
}
