/**
 * `ingest produce --fleet`: this process follows its fair share of the
 * account registry (src/fleet/). Wiring only: flags and configuration in,
 * the fleet and its health server started, the fleet awaited.
 *
 * @module
 */

import { UsageError } from "../../src/errors.ts";
import { type FleetHandle, startFleet } from "../../src/fleet/fleet.ts";
import { wantsHealthServer } from "../../src/health/health_wanted.ts";
import { hashedAccountLabel } from "../../src/metrics/account_label.ts";
import type { StartPosition } from "../../src/producer/start_position.ts";
import type { App } from "../app.ts";
import { type FlagSetting, flagSettings } from "../setting_option.ts";

/** The flags of `ingest produce` that the fleet reads (the setting flags come through `settings`). */
export interface FleetFlags {
  readonly account?: string;
  readonly mailbox?: string[];
  readonly once?: boolean;
  readonly dryRun?: boolean;
  readonly idle?: boolean;
  readonly healthPort?: string;
}

/** Flags that name one account's work and make no sense with --fleet. */
const SINGLE_ACCOUNT_FLAGS: readonly [keyof FleetFlags, string][] = [
  ["account", "--account"],
  ["mailbox", "--mailbox"],
  ["once", "--once"],
  ["dryRun", "--dry-run"],
];

/** Runs the fleet until SIGINT/SIGTERM, then hands every account back. */
export async function runFleetProduce(
  app: App,
  options: FleetFlags,
  settings: readonly FlagSetting[],
  start: StartPosition,
  problems: string[],
): Promise<void> {
  for (const [key, flag] of SINGLE_ACCOUNT_FLAGS) {
    if (options[key] !== undefined && options[key] !== false) {
      problems.push(`${flag} cannot be used with --fleet: the registry names the accounts`);
    }
  }
  const config = await app.configCollecting(flagSettings(options, settings), problems);
  if (problems.length > 0 || config === undefined) {
    throw new UsageError(`Cannot start the fleet producer:\n  - ${problems.join("\n  - ")}`);
  }
  const logger = app.logger(config);
  // The labeler is needed before the fleet exists; it reads the fleet's registry once it does.
  const running: { fleet?: FleetHandle } = {};
  const wanted = wantsHealthServer(config, {
    oneShot: false,
    portFlagGiven: options.healthPort !== undefined,
  });
  // Prometheus and the HTTP server load only when the server is wanted.
  const health = wanted
    ? (await import("../../src/health/command_health.ts")).startFleetHealth({
      config,
      redis: await app.redis(config, "ingest:metrics"),
      logger,
      signal: app.runtime.signal,
      labeler: (account) => running.fleet?.label(account) ?? hashedAccountLabel(account),
    })
    : undefined;
  // One client for every account's commits, leases and the fleet's own ticks.
  const redis = await app.redis(config, "ingest:fleet");
  const fleet = running.fleet = startFleet({
    config,
    redis,
    logger,
    observer: health?.observer,
    signal: app.runtime.signal,
    leaseTtlMs: config.producer.leaseTtlSeconds * 1000,
    maxAccounts: config.producer.fleetMaxAccounts,
    idle: options.idle,
    start,
  });
  health?.attach(fleet);
  try {
    await fleet.done;
  } finally {
    await health?.shutdown();
  }
}
