/**
 * Structured logging: one JSON object per line on stderr, or a readable line
 * when a person is watching. Callers pass identifiers and counts only: never
 * subjects, addresses or bodies (a test checks the producer's logs for that).
 *
 * @module
 */

/** Severity, in increasing order. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How records are rendered. */
export type LogFormat = "json" | "pretty";

/** Extra structured fields of a record: ids, counts, durations. */
export type LogFields = Record<string, unknown>;

/** The logger every core function takes as an argument. */
export interface Logger {
  /** Logs at debug level (dropped unless LOG_LEVEL=debug). */
  debug(message: string, fields?: LogFields): void;
  /** Logs at info level. */
  info(message: string, fields?: LogFields): void;
  /** Logs at warn level. */
  warn(message: string, fields?: LogFields): void;
  /** Logs at error level. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose records all carry `fields` (e.g. `{ component: "producer" }`). */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Records below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Output format. Default `json`. */
  format?: LogFormat;
  /** Where finished lines go. Default: stderr. */
  write?: (line: string) => void;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Every accepted log level, for validation. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/** Creates a structured logger. */
export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? "info"];
  const write = options.write ?? writeStderr;
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "json";

  function emit(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] < threshold) return;
    const record = { time: now().toISOString(), level, msg: message, ...bound, ...fields };
    write(format === "json" ? JSON.stringify(record, jsonSafe) : renderPretty(record));
  }

  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything (library use without logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

function renderPretty(record: Record<string, unknown>): string {
  const { time, level, msg, ...rest } = record;
  const extras = Object.entries(rest)
    .map(([key, value]) =>
      `${key}=${typeof value === "string" ? value : JSON.stringify(value, jsonSafe)}`
    )
    .join(" ");
  const clock = String(time).slice(11, 23);
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${msg}${extras ? "  " + extras : ""}`;
}
