/**
 * What the producer last published about each known message's flags (and
 * Gmail labels): the "old" side of a `message_updated` entry, and the
 * known-UID set that decides whether an expunge is a `message_deleted`.
 *
 * It is stored compactly: one Redis hash per mailbox whose fields are the
 * distinct flag/label combinations (`[["\\Seen"],null]` as JSON) and whose
 * values are the UIDs having it, as ranges ({@link UidRanges}). A mailbox
 * has few distinct combinations and long runs of UIDs sharing one, so a
 * 100,000-message mailbox takes kilobytes, not a field per message; the
 * known UIDs are the union of the values. Each combination is split into
 * fields of {@link CHUNK_UIDS} UIDs (`<combination>#<n>` holds UIDs
 * n×4096..n×4096+4095), and a commit rewrites only the fields it changed, so
 * a write stays small however fragmented a large mailbox is.
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

/** UIDs per stored field of one combination. */
export const CHUNK_UIDS = 4096;

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

/** The stored field holding `uid` of a combination. */
function chunkField(combination: string, uid: number): string {
  return `${combination}#${Math.floor(uid / CHUNK_UIDS)}`;
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
    const chunks = new Map<string, [number, string][]>();
    for (const [name, value] of Object.entries(hash)) {
      const at = name.lastIndexOf("#");
      const combination = at < 0 ? name : name.slice(0, at);
      const chunk = at < 0 ? 0 : Number(name.slice(at + 1));
      if (!chunks.has(combination)) chunks.set(combination, []);
      chunks.get(combination)!.push([chunk, value]);
    }
    const state = new FlagState();
    for (const [combination, parts] of chunks) {
      parts.sort((a, b) => a[0] - b[0]);
      state.#sets.set(combination, UidRanges.parse(parts.map(([, v]) => v).join(",")));
    }
    return state;
  }

  /** Known messages. */
  get size(): number {
    let n = 0;
    for (const set of this.#sets.values()) n += set.size;
    return n;
  }

  /** Distinct flag/label combinations. */
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
    this.#changed.add(chunkField(field, uid));
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
    for (const name of this.#changed) {
      const at = name.lastIndexOf("#");
      const from = Number(name.slice(at + 1)) * CHUNK_UIDS;
      const value = this.#sets.get(name.slice(0, at))?.slice(from, from + CHUNK_UIDS - 1) ?? "";
      if (value !== "") set.push([name, value]);
      else deleted.push(name);
    }
    this.#changed.clear();
    return { set, delete: deleted };
  }

  /** The whole state as hash fields, as stored (for measurements and tests). */
  toHash(): Record<string, string> {
    const hash: Record<string, string> = {};
    for (const [combination, set] of this.#sets) {
      if (set.first === undefined) continue;
      const lastChunk = Math.floor(set.last! / CHUNK_UIDS);
      for (let chunk = Math.floor(set.first / CHUNK_UIDS); chunk <= lastChunk; chunk++) {
        const value = set.slice(chunk * CHUNK_UIDS, (chunk + 1) * CHUNK_UIDS - 1);
        if (value !== "") hash[`${combination}#${chunk}`] = value;
      }
    }
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
    this.#changed.add(chunkField(field, uid));
  }
}
