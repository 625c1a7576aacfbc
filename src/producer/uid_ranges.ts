/**
 * A set of UIDs held as sorted, disjoint ranges: `1:5000,5002:9000` is two
 * ranges however many UIDs they cover. A mailbox's UIDs are mostly
 * consecutive (they only grow), so the set stays a few bytes per gap, not per
 * message. The text form is what Redis stores (an IMAP sequence set).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** A mutable set of UIDs kept as ranges; see the module documentation. */
export class UidRanges {
  /** Flat pairs: starts[i]..ends[i], ascending, with gaps between ranges. */
  #starts: number[] = [];
  #ends: number[] = [];
  #size = 0;

  /** Parses `1:3,7,9:10` (the form {@link toString} writes); `""` is the empty set. */
  static parse(text: string): UidRanges {
    const set = new UidRanges();
    if (text === "") return set;
    for (const part of text.split(",")) {
      const [a, b] = part.split(":");
      const start = Number(a);
      const end = b === undefined ? start : Number(b);
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end < start) {
        throw new InvalidArgumentError(`Cannot read UID ranges: "${part}" is not a range`);
      }
      const i = set.#ends.length - 1;
      const last = set.#ends[i];
      if (last === undefined || start > last + 1) {
        // Ranges in order (what toString writes): appended whole.
        set.#starts.push(start);
        set.#ends.push(end);
        set.#size += end - start + 1;
      } else if (start === last + 1) {
        // Adjacent to the last range (chunks joined back): extended.
        set.#ends[i] = end;
        set.#size += end - start + 1;
      } else {
        for (let uid = start; uid <= end; uid++) set.add(uid);
      }
    }
    return set;
  }

  /** How many UIDs the set holds. */
  get size(): number {
    return this.#size;
  }

  /** How many ranges the set holds (what its stored size grows with). */
  get rangeCount(): number {
    return this.#starts.length;
  }

  /** The lowest UID; `undefined` when empty. */
  get first(): number | undefined {
    return this.#starts[0];
  }

  /** The highest UID; `undefined` when empty. */
  get last(): number | undefined {
    return this.#ends[this.#ends.length - 1];
  }

  /** Whether `uid` is in the set. */
  has(uid: number): boolean {
    const i = this.#rangeAtOrBefore(uid);
    return i >= 0 && uid <= this.#ends[i]!;
  }

  /** Adds `uid`; returns whether it was new. Appending above the highest UID is O(1). */
  add(uid: number): boolean {
    const i = this.#rangeAtOrBefore(uid);
    if (i >= 0 && uid <= this.#ends[i]!) return false;
    const joinsLeft = i >= 0 && this.#ends[i]! === uid - 1;
    const joinsRight = i + 1 < this.#starts.length && this.#starts[i + 1]! === uid + 1;
    if (joinsLeft && joinsRight) {
      this.#ends[i] = this.#ends[i + 1]!;
      this.#starts.splice(i + 1, 1);
      this.#ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      this.#ends[i] = uid;
    } else if (joinsRight) {
      this.#starts[i + 1] = uid;
    } else {
      this.#starts.splice(i + 1, 0, uid);
      this.#ends.splice(i + 1, 0, uid);
    }
    this.#size++;
    return true;
  }

  /** Removes `uid`; returns whether it was there. */
  delete(uid: number): boolean {
    const i = this.#rangeAtOrBefore(uid);
    if (i < 0 || uid > this.#ends[i]!) return false;
    const start = this.#starts[i]!;
    const end = this.#ends[i]!;
    if (start === end) {
      this.#starts.splice(i, 1);
      this.#ends.splice(i, 1);
    } else if (uid === start) {
      this.#starts[i] = uid + 1;
    } else if (uid === end) {
      this.#ends[i] = uid - 1;
    } else {
      this.#ends[i] = uid - 1;
      this.#starts.splice(i + 1, 0, uid + 1);
      this.#ends.splice(i + 1, 0, end);
    }
    this.#size--;
    return true;
  }

  /** The UIDs in ascending order (expands every range: for small sets and tests). */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.#starts.length; i++) {
      for (let uid = this.#starts[i]!; uid <= this.#ends[i]!; uid++) yield uid;
    }
  }

  /** `1:3,7,9:10`; `""` when empty. */
  toString(): string {
    return this.slice(1, Number.MAX_SAFE_INTEGER);
  }

  /** The members between `from` and `to` (inclusive) in the {@link toString} form. */
  slice(from: number, to: number): string {
    const parts: string[] = [];
    let i = Math.max(0, this.#rangeAtOrBefore(from));
    for (; i < this.#starts.length && this.#starts[i]! <= to; i++) {
      const start = Math.max(from, this.#starts[i]!);
      const end = Math.min(to, this.#ends[i]!);
      if (start > end) continue;
      parts.push(start === end ? `${start}` : `${start}:${end}`);
    }
    return parts.join(",");
  }

  /** Index of the last range starting at or before `uid`; -1 when none. */
  #rangeAtOrBefore(uid: number): number {
    const starts = this.#starts;
    const last = starts.length - 1;
    if (last < 0 || uid < starts[0]!) return -1;
    if (uid >= starts[last]!) return last;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= uid) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
