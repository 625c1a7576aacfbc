/**
 * IMAP sequence sets of UIDs: `[1,2,3,7,9,10]` → `1:3,7,9:10`.
 *
 * @module
 */

/** A compact sequence set of ascending UIDs. */
export function uidSet(uids: readonly number[]): string {
  const ranges: string[] = [];
  let start: number | undefined;
  let end = 0;
  for (const uid of uids) {
    if (start !== undefined && uid === end + 1) {
      end = uid;
      continue;
    }
    if (start !== undefined) ranges.push(start === end ? `${start}` : `${start}:${end}`);
    start = end = uid;
  }
  if (start !== undefined) ranges.push(start === end ? `${start}` : `${start}:${end}`);
  return ranges.join(",");
}
