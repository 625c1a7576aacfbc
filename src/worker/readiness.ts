/**
 * The worker's `/ready` verdict: its read loop is alive (running, not
 * blocked on settles, heartbeat recent) and its consumer group exists.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import { withDeadline } from "../async/deadline.ts";
import type { WorkerCheck, WorkerReadiness, WorkerState } from "./worker_types.ts";

/** How long the `XINFO GROUPS` of a readiness check may take. */
export const GROUP_CHECK_TIMEOUT_MS = 2_000;
/** A heartbeat older than this (or 5 blocking reads, if longer) means a stuck loop. */
export const STALE_LOOP_MS = 10_000;

/** What the loop check looks at. */
export interface LoopFacts {
  readonly state: WorkerState;
  /** Why settles are blocked, `undefined` when none waits. */
  readonly unsettled: string | undefined;
  /** Ms since the last loop iteration, `undefined` before the first. */
  readonly heartbeatAgeMs: number | undefined;
  /** The loop's longest blocking read, ms. */
  readonly blockMs: number;
}

/** Whether the read loop is alive, and why not. */
export function loopCheck(facts: LoopFacts): WorkerCheck {
  const staleAfter = Math.max(STALE_LOOP_MS, 5 * facts.blockMs);
  const age = facts.heartbeatAgeMs;
  if (facts.state !== "running") return { ok: false, detail: `worker is ${facts.state}` };
  if (facts.unsettled !== undefined) return { ok: false, detail: facts.unsettled };
  if (age === undefined || age > staleAfter) {
    return { ok: false, detail: `read loop last ran ${age ?? "never"} ms ago` };
  }
  return { ok: true };
}

/** Whether `group` exists (`exists` asks Redis), within {@link GROUP_CHECK_TIMEOUT_MS}. */
export async function groupCheck(
  group: string,
  exists: () => Promise<boolean>,
): Promise<WorkerCheck> {
  try {
    const found = await withDeadline(exists(), GROUP_CHECK_TIMEOUT_MS, "XINFO GROUPS");
    return found ? { ok: true } : { ok: false, detail: `group ${group} does not exist` };
  } catch (error) {
    return { ok: false, detail: describeError(error) };
  }
}

/** Both checks and the verdict. */
export async function workerReadiness(
  facts: LoopFacts,
  group: string,
  exists: () => Promise<boolean>,
): Promise<WorkerReadiness> {
  const loop = loopCheck(facts);
  const groupVerdict = await groupCheck(group, exists);
  return { ready: loop.ok && groupVerdict.ok, checks: { loop, group: groupVerdict } };
}
