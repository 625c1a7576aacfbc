/**
 * The health endpoints (`/health`, `/ready`, `/status`, `/metrics`) every long-running command
 * serves, and the wiring of `produce`, `work` and `metrics serve` to them.
 *
 * @module
 */

export * from "./server.ts";
export * from "./command_health.ts";
export * from "./health_wanted.ts";
export * from "./pipeline_status.ts";
export * from "./ports.ts";
