/**
 * Shared plumbing of every command: configuration from flags, environment
 * and `.env`; the logger; Redis connections that are always closed.
 *
 * @module
 */

import {
  type Config,
  type ConfigSources,
  loadConfig,
  type Settings,
} from "../src/config/config.ts";
import { ConfigError } from "../src/errors.ts";
import { dotenvWarnings, readDotenvFile } from "../src/config/dotenv.ts";
import { createLogger, type Logger } from "../src/log/logger.ts";
import { createStatusArea, type StatusArea } from "../src/progress/status_area.ts";
import type { RedisClient } from "../src/redis/connection.ts";
import type { Runtime } from "./runtime.ts";

/** Options every command accepts (declared on the root command). */
export interface GlobalOptions {
  /** `--env-file PATH` (must exist), `false` for `--no-env-file`; default: `./.env` if present. */
  envFile?: string | false;
  logLevel?: string;
  logFormat?: string;
}

/** One CLI run's services, created lazily and released by {@link App.close}. */
export class App {
  readonly runtime: Runtime;
  #globals: GlobalOptions = {};
  readonly #redisClients: RedisClient[] = [];
  #logger: Logger | undefined;
  #statusArea: StatusArea | undefined;
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

  /**
   * The configuration, with `flags` (keyed by variable name) on top; each of
   * `required` missing from every layer is one more problem.
   */
  async config(flags: Settings = {}, required?: ConfigSources["required"]): Promise<Config> {
    const chosen = this.#globals.envFile;
    const envFile = chosen === false ? undefined : chosen ?? ".env";
    // A file named on the command line must exist: a typo there is an error, not silent defaults.
    const dotenv = envFile === undefined
      ? {}
      : await readDotenvFile(envFile, { required: chosen !== undefined });
    if (!this.#dotenvChecked) {
      // Before the logger exists (it is configured from this very file): plain stderr lines.
      for (const warning of dotenvWarnings(envFile ?? "", dotenv)) {
        this.runtime.stderr(warning + "\n");
      }
      this.#dotenvChecked = true;
    }
    const globalFlags: Settings = {
      LOG_LEVEL: this.#globals.logLevel,
      LOG_FORMAT: this.#globals.logFormat,
    };
    return loadConfig({
      flags: { ...globalFlags, ...flags },
      env: this.runtime.env,
      dotenv,
      required,
    });
  }

  /**
   * Like {@link App.config}, but a configuration error is added to `problems`
   * (and `undefined` returned) instead of thrown, so a command can report its
   * flag problems and the configuration's in one message.
   */
  async configCollecting(
    flags: Settings,
    problems: string[],
    required?: ConfigSources["required"],
  ): Promise<Config | undefined> {
    try {
      return await this.config(flags, required);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  }

  /** The process logger, configured from `config.log`. */
  logger(config: Config): Logger {
    if (!this.#logger) {
      const pretty = config.log.format === "pretty" ||
        (config.log.format === "auto" && this.runtime.stderrIsTerminal);
      this.#logger = createLogger({
        level: config.log.level,
        format: pretty ? "pretty" : "json",
        // Above the progress bars when they are shown, so no redraw erases a log line.
        write: (line) =>
          this.#statusArea ? this.#statusArea.print(line + "\n") : this.runtime.stderr(line + "\n"),
      });
    }
    return this.#logger;
  }

  /** Status lines at the bottom of the terminal (stderr); log lines print above them. */
  statusArea(): StatusArea {
    this.#statusArea ??= createStatusArea((text) => this.runtime.stderr(text));
    return this.#statusArea;
  }

  /** A connected Redis client that is closed with the app. */
  async redis(config: Config, name: string): Promise<RedisClient> {
    // ioredis loads with the first connection, not at start-up.
    const { connectRedis } = await import("../src/redis/connection.ts");
    const client = await connectRedis(config.redis, { name, logger: this.logger(config) });
    this.#redisClients.push(client);
    return client;
  }

  /** Releases everything the run opened. */
  async close(): Promise<void> {
    if (this.#redisClients.length === 0) return;
    const { closeRedis } = await import("../src/redis/connection.ts");
    await Promise.all(this.#redisClients.splice(0).map(closeRedis));
  }

  /** Writes a command result to stdout. */
  print(text: string): void {
    this.runtime.stdout(text);
  }
}
