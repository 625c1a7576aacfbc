/**
 * Shared plumbing of every command: configuration from flags, environment
 * and `.env`; the logger; Redis connections that are always closed.
 *
 * @module
 */

import { type Config, loadConfig, type Settings } from "../src/config/config.ts";
import { dotenvWarnings, readDotenvFile } from "../src/config/dotenv.ts";
import { createLogger, type Logger } from "../src/log/logger.ts";
import { closeRedis, connectRedis, type Redis } from "../src/redis/connection.ts";
import type { Runtime } from "./runtime.ts";

/** Options every command accepts (declared on the root command). */
export interface GlobalOptions {
  envFile?: string;
  logLevel?: string;
  logFormat?: string;
}

/** One CLI run's services, created lazily and released by {@link App.close}. */
export class App {
  readonly runtime: Runtime;
  #globals: GlobalOptions = {};
  readonly #redisClients: Redis[] = [];
  #logger: Logger | undefined;
  #dotenvChecked = false;
  /** Exit code of a command that finished without throwing (e.g. `doctor` with failures). */
  exitCode = 0;

  constructor(runtime: Runtime) {
    this.runtime = runtime;
  }

  /** Called by the root command before any action runs. */
  setGlobals(globals: GlobalOptions): void {
    this.#globals = globals;
  }

  /** The configuration, with `flags` (keyed by variable name) on top. */
  async config(flags: Settings = {}): Promise<Config> {
    const envFile = this.#globals.envFile ?? ".env";
    const dotenv = await readDotenvFile(envFile);
    if (!this.#dotenvChecked) {
      // Before the logger exists (it is configured from this very file): plain stderr lines.
      for (const warning of dotenvWarnings(envFile, dotenv)) this.runtime.stderr(warning + "\n");
      this.#dotenvChecked = true;
    }
    const globalFlags: Settings = {
      LOG_LEVEL: this.#globals.logLevel,
      LOG_FORMAT: this.#globals.logFormat,
    };
    return loadConfig({ flags: { ...globalFlags, ...flags }, env: this.runtime.env, dotenv });
  }

  /** The process logger, configured from `config.log`. */
  logger(config: Config): Logger {
    if (!this.#logger) {
      const pretty = config.log.format === "pretty" ||
        (config.log.format === "auto" && this.runtime.stderrIsTerminal);
      this.#logger = createLogger({
        level: config.log.level,
        format: pretty ? "pretty" : "json",
        write: (line) => this.runtime.stderr(line + "\n"),
      });
    }
    return this.#logger;
  }

  /** A connected Redis client that is closed with the app. */
  async redis(config: Config, name: string): Promise<Redis> {
    const client = await connectRedis(config.redis, { name, logger: this.logger(config) });
    this.#redisClients.push(client);
    return client;
  }

  /** Releases everything the run opened. */
  async close(): Promise<void> {
    await Promise.all(this.#redisClients.splice(0).map(closeRedis));
  }

  /** Writes a command result to stdout. */
  print(text: string): void {
    this.runtime.stdout(text);
  }
}
