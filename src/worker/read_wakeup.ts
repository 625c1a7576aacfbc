/**
 * Ends the worker's blocking XREADGROUP early when a retry falls due before
 * the read would time out. Without it, an entry that failed while the worker
 * waited for new entries was retried only when the block ended: up to a
 * whole block (1 s) after its backoff delay, so retry gaps overshot their
 * ceiling (`WORKER_BACKOFF_BASE_MS` × 2^n, at most `WORKER_BACKOFF_CAP_MS`)
 * by up to a second; measured 958 ms over a 400 ms ceiling.
 *
 * A read shortened to the due time is not enough either: RedisClient notices
 * BLOCK timeouts on its own timer (every 1/`hz` s, 100 ms by default), so
 * such reads returned ~100 ms late. A local timer sends
 * `CLIENT UNBLOCK <id>` (on the worker's other connection) at the due time;
 * the read returns as if it had timed out: nothing is delivered, nothing lost.
 * When `CLIENT ID`/`CLIENT UNBLOCK` are not allowed (ACL), reads simply run
 * to their end as before.
 *
 * @module
 */

import { isCluster, type RedisClient } from "../redis/client.ts";

/**
 * Whether a retry due at `dueAt` must end a read blocking until `blockingUntil`
 * (`undefined`: no read is blocking). Also when the read was shortened to end
 * at the due time: RedisClient would end it up to 1/`hz` s late.
 */
export function mustWakeRead(dueAt: number, blockingUntil: number | undefined): boolean {
  return blockingUntil !== undefined && dueAt <= blockingUntil;
}

/** Tracks the blocking connection's client id and the end of its current read. */
export class ReadWakeup {
  readonly #control: RedisClient;
  readonly #blocking: RedisClient;
  readonly #now: () => number;
  #id: string | undefined;
  #blockingUntil: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wakeAt: number | undefined;
  #started = false;

  /**
   * `control` sends the CLIENT UNBLOCK; `blocking` is the connection that
   * reads; `now` is the clock of the due times (default `Date.now`).
   */
  constructor(control: RedisClient, blocking: RedisClient, now: () => number = Date.now) {
    this.#control = control;
    this.#blocking = blocking;
    this.#now = now;
  }

  /** Learns the blocking connection's id (again after every reconnect). Never throws. */
  async start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      this.#blocking.on("ready", () => {
        this.#id = undefined;
        this.#learnId().catch(() => {});
      });
    }
    await this.#learnId();
  }

  async #learnId(): Promise<void> {
    // On a cluster CLIENT ID and CLIENT UNBLOCK would go to any node, not the
    // one the read blocks on: reads run to their end (at most a block) there.
    if (isCluster(this.#blocking)) return;
    try {
      this.#id = String(await this.#blocking.call("CLIENT", "ID"));
    } catch {
      this.#id = undefined; // e.g. an ACL user without CLIENT: no early wake-ups
    }
  }

  /** A blocking read runs until `until`; `nextDue` is the earliest known retry, if any. */
  reading(until: number, nextDue?: number): void {
    this.#blockingUntil = until;
    if (nextDue !== undefined) this.dueAt(nextDue);
  }

  /** The blocking read returned. */
  finished(): void {
    this.#blockingUntil = undefined;
    this.#wakeAt = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A retry falls due at `dueAt`: the current read is ended then if it would outlast it. */
  dueAt(dueAt: number): void {
    if (this.#id === undefined || !mustWakeRead(dueAt, this.#blockingUntil)) return;
    if (this.#wakeAt !== undefined && this.#wakeAt <= dueAt) return;
    clearTimeout(this.#timer);
    this.#wakeAt = dueAt;
    const id = this.#id;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#blockingUntil === undefined) return;
      this.#blockingUntil = undefined; // one wake-up per read
      this.#control.call("CLIENT", "UNBLOCK", id).catch(() => {});
    }, Math.max(0, dueAt - this.#now()));
  }
}
