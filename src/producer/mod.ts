/**
 * The producer: IMAP to the stream. One mailbox supervisor per mailbox (connect, back off,
 * lease, park) runs sync rounds (what to fetch, fetch, build payloads) and hands each batch to a
 * publisher (the Redis publisher's atomic commit of entries and cursor, or the dry run), started
 * for an account by `startProducer`.
 *
 * @module
 */

export * from "./producer.ts";
export * from "./start_position.ts";
export {
  BackfillScheduler,
  type BackfillSchedulerLoad,
  type BackfillSchedulerOptions,
} from "./backfill_scheduler.ts";
