/**
 * Fault scenarios on the Redis and sink side: Redis full (noeviction) during
 * produce and during work, Redis SIGKILL with AOF, a flaky webhook receiver.
 *
 * @module
 */

import { REDIS_KILL_AOF } from "./redis_kill.ts";
import { REDIS_OOM_PRODUCE, REDIS_OOM_WORK } from "./redis_oom.ts";
import type { FaultScenario } from "./scenario.ts";
import { WEBHOOK_FLAKY } from "./webhook_flaky.ts";

/** The Redis- and sink-side scenarios. */
export const REDIS_WORKER_SCENARIOS: readonly FaultScenario[] = [
  REDIS_OOM_PRODUCE,
  REDIS_OOM_WORK,
  REDIS_KILL_AOF,
  WEBHOOK_FLAKY,
];
