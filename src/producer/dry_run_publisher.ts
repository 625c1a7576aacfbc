/**
 * The dry-run publisher: hands each payload to a callback (the CLI prints
 * it) and writes nothing at all: no lease, no commit, no consumer group. It
 * reads the stored cursor once, so a dry run shows what a real run would
 * publish next, and then remembers its own position across reconnects.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { Logger } from "../log/logger.ts";
import type { MailboxRef } from "../redis/keys.ts";
import { readCursorPosition } from "../state/cursor.ts";
import type { EmailPayload } from "../stream/entry.ts";
import { reconcileCursor } from "./cursor_reconcile.ts";
import { viaRedis } from "./follower_errors.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { Position, PublishBatch, Publisher, PublishingMode, StartPoint } from "./publisher.ts";

/** What a {@link DryRunPublisher} works with. */
export interface DryRunPublisherOptions {
  /** Read only: the stored cursor. */
  readonly redis: RedisClient;
  readonly ref: MailboxRef;
  readonly report: MailboxReport;
  readonly logger: Logger;
  /** Receives each payload, in UID order. */
  readonly print: (payload: EmailPayload) => void;
}

/** Prints instead of publishing; see the module documentation. */
export class DryRunPublisher implements Publisher {
  readonly lease = undefined;
  readonly #options: DryRunPublisherOptions;
  /** The position reached (nothing is committed). */
  #memory: Position | undefined;

  constructor(options: DryRunPublisherOptions) {
    this.#options = options;
  }

  async prepare(uidValidity: number, start: StartPoint): Promise<Position> {
    if (this.#memory?.uidValidity === uidValidity) return this.#memory;
    const { redis, ref, report, logger } = this.#options;
    const stored = await viaRedis("GET cursor", () => readCursorPosition(redis, ref));
    const plan = await reconcileCursor(stored, uidValidity, { ref, start, logger });
    if (plan.kind === "resume") return report.moved(plan.position);
    return this.#memory = plan.position;
  }

  waitForRoom(): Promise<void> {
    return Promise.resolve();
  }

  publish(position: Position, batch: PublishBatch): Promise<Position> {
    for (const entry of batch.entries) this.#options.print(entry.payload);
    this.#options.report.status.published += batch.entries.length;
    this.#memory = { uidValidity: position.uidValidity, lastUid: batch.lastUid };
    return Promise.resolve(this.#memory);
  }

  recordPoll(position: Position): Promise<Position> {
    return Promise.resolve(position);
  }
}

/** The dry-run mode: nothing to prepare in Redis, one {@link DryRunPublisher} per mailbox. */
export function dryRunMode(
  redis: RedisClient,
  print: (payload: EmailPayload) => void,
): PublishingMode {
  return {
    prepareStream: () => Promise.resolve(),
    publisher: (ref, report, logger) => new DryRunPublisher({ redis, ref, report, logger, print }),
  };
}
