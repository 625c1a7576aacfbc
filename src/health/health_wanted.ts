/**
 * Whether a command starts its health server. Apart from command_health.ts
 * (Prometheus metrics, the HTTP server) so that a run without one, such as
 * `produce --once`, decides without loading them.
 *
 * @module
 */

import type { Config } from "../config/config.ts";

/**
 * Whether a run starts its health server: long-running runs do unless
 * HEALTH_PORT is 0; one-shot runs (`produce --once`/`--dry-run`,
 * `work --drain`) only when `--health-port` is given, so a cron job beside a
 * running service does not fight over its port.
 */
export function wantsHealthServer(
  config: Config,
  run: { oneShot: boolean; portFlagGiven: boolean },
): boolean {
  if (config.observability.healthPort === 0) return false;
  return !run.oneShot || run.portFlagGiven;
}
