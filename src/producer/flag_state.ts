/**
 * What the producer last published about each known message's flags (and
 * Gmail labels): the "old" side of a `message_updated` entry, and the
 * known-UID set that decides whether an expunge is a `message_deleted`.
 *
 * It is stored compactly: one Redis hash per mailbox whose fields are the
 * distinct flag/label combinations (`["\\Seen"],null` as JSON) and whose
 * values are the UIDs having it, as ranges ({@link UidRanges}). A mailbox
 * has few distinct combinations and long runs of UIDs sharing one, so a
 * 100,000-message mailbox takes kilobytes, not a field per message; the
 * known UIDs are the union of the values. Only the fields a commit changed
 * are rewritten.
 *
 * @module
 */

import { UidRanges } from "./uid_ranges.ts";

/**
 * A message's flags and labels, normalised: sorted, without `\Recent` (it
 * belongs to a session, not the message) and `\Deleted` (a mark for the
 * expunge that follows, which is the `message_deleted`).
 */
export interface MessageMarks {
  readonly flags: readonly string[];
  /** X-GM-LABELS; `null` on servers without them. */
  readonly labels: readonly string[] | null;
}

const IGNORED_FLAGS = new Set(["\\recent", "\\deleted"]);

/** Field writes of one commit: fields to set to a ranges value, fields to delete. */
export interface FlagStateWrites {
  readonly set: readonly (readonly [string, string])[];
  readonly delete: readonly string[];
}

/** Normalised {@link MessageMarks}. */
export function normaliseMarks(
  flags: Iterable<string>,
  labels: Iterable<string> | null | undefined,
): MessageMarks {
  return {
    flags: [...new Set(flags)].filter((f) => !IGNORED_FLAGS.has(f.toLowerCase())).sort(),
    labels: labels ? [...new Set(labels)].sort() : null,
  };
}

/** Whether two normalised marks are the same. */
export function sameMarks(a: MessageMarks, b: MessageMarks): boolean {
  return marksField(a) === marksField(b);
}

function marksField(marks: MessageMarks): string {
  return JSON.stringify([marks.flags, marks.labels]);
}

function fieldMarks(field: string): MessageMarks {
  const [flags, labels] = JSON.parse(field) as [string[], string[] | null];
  return { flags, labels };
}

/** The flag state of one mailbox; see the module documentation. */
export class FlagState {
  readonly #sets = new Map<string, UidRanges>();
  readonly #changed = new Set<string>();

  /** The state as stored (`HGETALL` of the mailbox's flag-state hash). */
  static fromHash(hash: Readonly<Record<string, string>>): FlagState {
    const state = new FlagState();
    for (const [field, value] of Object.entries(hash)) {
      state.#sets.set(field, UidRanges.parse(value));
    }
    return state;
  }

  /** Known messages. */
  get size(): number {
    let n = 0;
    for (const set of this.#sets.values()) n += set.size;
    return n;
  }

  /** Distinct flag/label combinations (hash fields). */
  get combinations(): number {
    return this.#sets.size;
  }

  /** Whether fields changed since the last {@link takeWrites}. */
  get hasPendingWrites(): boolean {
    return this.#changed.size > 0;
  }

  /** Whether `uid` is known. */
  has(uid: number): boolean {
    return this.#fieldOf(uid) !== undefined;
  }

  /** The marks last recorded for `uid`; `undefined` when it is not known. */
  marksOf(uid: number): MessageMarks | undefined {
    const field = this.#fieldOf(uid);
    return field === undefined ? undefined : fieldMarks(field);
  }

  /** Records `uid` with `marks`; returns what it had before (`undefined`: newly known). */
  set(uid: number, marks: MessageMarks): MessageMarks | undefined {
    const field = marksField(marks);
    const before = this.#fieldOf(uid);
    if (before === field) return marks;
    if (before !== undefined) this.#remove(uid, before);
    let set = this.#sets.get(field);
    if (!set) this.#sets.set(field, set = new UidRanges());
    set.add(uid);
    this.#changed.add(field);
    return before === undefined ? undefined : fieldMarks(before);
  }

  /** Forgets `uid`; returns its last marks (`undefined`: it was not known). */
  delete(uid: number): MessageMarks | undefined {
    const field = this.#fieldOf(uid);
    if (field === undefined) return undefined;
    this.#remove(uid, field);
    return fieldMarks(field);
  }

  /** Every known UID, ascending. */
  knownUids(): number[] {
    const all: number[] = [];
    for (const set of this.#sets.values()) all.push(...set);
    return all.sort((a, b) => a - b);
  }

  /** The lowest of the `n` highest known UIDs (a bounded re-scan starts there). */
  lowestOfHighest(n: number): number {
    const known = this.knownUids();
    return known.length <= n ? 1 : known[known.length - n]!;
  }

  /** The fields changed since the last call, as the commit writes them. */
  takeWrites(): FlagStateWrites {
    const set: [string, string][] = [];
    const deleted: string[] = [];
    for (const field of this.#changed) {
      const ranges = this.#sets.get(field);
      if (ranges && ranges.size > 0) set.push([field, ranges.toString()]);
      else deleted.push(field);
    }
    this.#changed.clear();
    return { set, delete: deleted };
  }

  /** The whole state as hash fields (for measurements and tests). */
  toHash(): Record<string, string> {
    const hash: Record<string, string> = {};
    for (const [field, set] of this.#sets) if (set.size > 0) hash[field] = set.toString();
    return hash;
  }

  #fieldOf(uid: number): string | undefined {
    for (const [field, set] of this.#sets) if (set.has(uid)) return field;
    return undefined;
  }

  #remove(uid: number, field: string): void {
    const set = this.#sets.get(field)!;
    set.delete(uid);
    if (set.size === 0) this.#sets.delete(field);
    this.#changed.add(field);
  }
}
