/**
 * Configuration: the one table of settings (env name, default, help) and the loader that reads
 * flags, environment and `.env` into a typed, validated `Config`.
 *
 * @module
 */

export * from "./config.ts";
export * from "./variables.ts";
export * from "./dotenv.ts";
