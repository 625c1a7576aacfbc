/**
 * Test helper: what a terminal shows after the cursor-up, erase-line and
 * erase-below sequences that the status area writes (and nothing else).
 *
 * @module
 */

/** Replays the escape sequences the area uses onto a list of screen lines. */
export function screen(writes: string[]): string[] {
  const lines: string[] = [""];
  let row = 0;
  const text = writes.join("");
  for (let i = 0; i < text.length;) {
    // deno-lint-ignore no-control-regex -- matching terminal escape sequences is the point
    const escape = text.slice(i).match(/^\x1b\[(\d*)([AJK])/);
    if (escape) {
      const [all, n, kind] = escape;
      if (kind === "A") row = Math.max(0, row - Number(n || 1));
      if (kind === "K") lines[row] = "";
      if (kind === "J") lines.splice(row + 1), (lines[row] = "");
      i += all.length;
      continue;
    }
    const char = text[i]!;
    if (char === "\r") {
      // column 0: lines are only ever written whole here
    } else if (char === "\n") {
      row++;
      if (lines[row] === undefined) lines[row] = "";
    } else {
      lines[row] = (lines[row] ?? "") + char;
    }
    i++;
  }
  return lines.slice(0, lines.length - (lines.at(-1) === "" ? 1 : 0));
}
