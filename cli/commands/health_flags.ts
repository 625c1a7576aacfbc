/**
 * The `--health-port` / `--health-host` flags `produce` and `work` share,
 * built from the settings table's HEALTH_PORT and HEALTH_HOST rows.
 *
 * @module
 */

import { DEFAULT_PORTS } from "../../src/health/ports.ts";
import { settingOption } from "../setting_option.ts";

/** The `--health-port` flag. */
export function healthPortOption(): ReturnType<typeof settingOption<"HEALTH_PORT">> {
  return settingOption(
    "HEALTH_PORT",
    `port of /health /ready /status /metrics; 0 disables; give work ${DEFAULT_PORTS.work} beside a producer`,
  );
}

/** The `--health-host` flag. */
export function healthHostOption(): ReturnType<typeof settingOption<"HEALTH_HOST">> {
  return settingOption("HEALTH_HOST", "address of that server");
}
