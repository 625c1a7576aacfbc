/**
 * The producer's copy of one mailbox's change-tracking state (the
 * HIGHESTMODSEQ mark and the {@link FlagState}), read from Redis when a
 * mailbox is opened and kept in step with every commit, which writes only
 * the fields it changed. A commit that fails (or a read that breaks off
 * after changing the copy) marks the copy stale, and it is read again before
 * its next use: what Redis holds is always the truth.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { flagStateKey, type MailboxRef, modseqKey } from "../redis/keys.ts";
import type { ChangeCommit, CommitEntry } from "./commit.ts";
import { FlagState, normaliseMarks } from "./flag_state.ts";

/** Which change events are published (`--events`; `new` is always on). */
export interface EventSelection {
  /** `message_updated` entries. */
  readonly updated: boolean;
  /** `message_deleted` entries. */
  readonly deleted: boolean;
}

/** Whether `events` asks for any change tracking at all. */
export function tracksChanges(events: EventSelection | undefined): events is EventSelection {
  return events !== undefined && (events.updated || events.deleted);
}

/** See the module documentation. */
export class ChangeTracker {
  readonly #redis: RedisClient;
  readonly #ref: MailboxRef;
  #state = new FlagState();
  #mark: string | null = null;
  #stale = true;

  constructor(redis: RedisClient, ref: MailboxRef) {
    this.#redis = redis;
    this.#ref = ref;
  }

  /** The known UIDs and their flags (read it after {@link ensureLoaded}). */
  get state(): FlagState {
    return this.#state;
  }

  /** The HIGHESTMODSEQ mark as committed (`scan:<n>` without CONDSTORE); `null`: none yet. */
  get mark(): string | null {
    return this.#mark;
  }

  /** Reads the state from Redis (when a mailbox is opened, and after a failed commit). */
  async load(): Promise<void> {
    const [mark, hash] = await Promise.all([
      this.#redis.get(modseqKey(this.#ref)),
      this.#redis.hgetall(flagStateKey(this.#ref)),
    ]);
    this.#mark = mark;
    this.#state = FlagState.fromHash(hash);
    this.#stale = false;
  }

  /** Reads the state again when the copy may differ from Redis. */
  async ensureLoaded(): Promise<void> {
    if (this.#stale) await this.load();
  }

  /** The copy may differ from Redis (a failed commit, an abandoned read): read it before use. */
  invalidate(): void {
    this.#stale = true;
  }

  /** The change part of an email batch's commit: the messages become known with their flags. */
  emailCommit(entries: readonly CommitEntry[]): ChangeCommit {
    for (const { payload } of entries) {
      this.#state.set(payload.uid, normaliseMarks(payload.flags, payload.gmail?.labels));
    }
    return this.changeCommit([], this.#mark);
  }

  /** A UIDVALIDITY reset: the old UIDs mean nothing now, so the state is dropped (no deletions). */
  resetCommit(): ChangeCommit {
    const expectedMark = this.#mark;
    this.#state = new FlagState();
    return { expectedMark, mark: null, clear: true, entries: [], writes: { set: [], delete: [] } };
  }

  /** A commit of `entries` (change entry fields) and the state's changed fields, moving the mark. */
  changeCommit(entries: readonly (readonly string[])[], mark: string | null): ChangeCommit {
    return { expectedMark: this.#mark, mark, entries, writes: this.#state.takeWrites() };
  }

  /** After the commit of `change`: applied (`ok`), or not known to be (the copy is read again). */
  settled(change: ChangeCommit, ok: boolean): void {
    if (ok) this.#mark = change.mark;
    else this.#stale = true;
  }
}
