/**
 * Fault scenarios on the Redis and sink side: Redis full (noeviction) during
 * produce and during work, Redis SIGKILL with AOF, a flaky webhook receiver.
 *
 * @module
 */

import { REDIS_OOM_PRODUCE, REDIS_OOM_WORK } from "./redis_oom.ts";
import type { FaultScenario } from "./scenario.ts";

/** The Redis- and sink-side scenarios. */
export const REDIS_WORKER_SCENARIOS: readonly FaultScenario[] = [
  REDIS_OOM_PRODUCE,
  REDIS_OOM_WORK,
];
