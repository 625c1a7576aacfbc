/**
 * A throwaway `redis-server` on an ephemeral loopback port in a temporary
 * directory: never the shared Redis on 6379. It can be stopped and started
 * again on the same port (Redis restart tests) and is always cleaned up.
 *
 * @module
 */

import { freePort, waitForPort } from "./ports.ts";

/** A running test Redis. */
export interface TestRedis extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGKILL when `hard`), keeping its port and directory. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Runs `redis-cli` against it and returns stdout. */
  cli(...args: string[]): Promise<string>;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `["--appendonly", "yes"]`. */
  args?: string[];
}

/** Starts a private redis-server. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "ingest-redis-" });
  let child: Deno.ChildProcess | undefined;

  async function start(): Promise<void> {
    child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--logfile",
        `${dir}/redis.log`,
        ...(options.args ?? []),
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port);
  }

  async function stop(stopOptions: { hard?: boolean } = {}): Promise<void> {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill(stopOptions.hard ? "SIGKILL" : "SIGTERM");
    } catch { /* already gone */ }
    await running.status;
  }

  async function close(): Promise<void> {
    await stop({ hard: true });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    close,
    [Symbol.asyncDispose]: close,
    async cli(...args: string[]): Promise<string> {
      const out = await new Deno.Command("redis-cli", { args: ["-p", String(port), ...args] })
        .output();
      return new TextDecoder().decode(out.stdout);
    },
  };
}
