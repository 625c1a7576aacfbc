/**
 * Fault scenarios between the producer and IMAP: connections dropped after
 * some bytes, stalled mid-command, black-holed while idling.
 *
 * @module
 */

import type { FaultScenario } from "./scenario.ts";

/** The IMAP-side scenarios. */
export const IMAP_SCENARIOS: readonly FaultScenario[] = [];
