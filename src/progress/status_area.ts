/**
 * A few status lines kept at the bottom of a terminal while log lines scroll
 * above them: the progress bars of `ingest produce`. Everything written to the
 * terminal while the area is shown goes through {@link StatusArea.print},
 * which lifts the area, writes the text, and draws the area again below it,
 * so a redraw never overwrites a log line. Pure apart from `write`.
 *
 * @module
 */

/** Status lines at the bottom of a terminal. */
export interface StatusArea {
  /** Replaces the status lines (drawn in place of the previous ones). */
  draw(lines: readonly string[]): void;
  /** Writes `text` (whole lines) above the status lines. */
  print(text: string): void;
  /** Leaves the last lines on screen and stops managing them. */
  finish(): void;
  /** Erases the status lines and stops managing them. */
  clear(): void;
}

// The cursor always rests at the start of the line below the area.
const up = (lines: number) => (lines > 0 ? `\x1b[${lines}A` : "");
const ERASE_LINE = "\r\x1b[2K";
const ERASE_BELOW = "\r\x1b[0J";

/** Creates an area that writes terminal text through `write` (stderr). */
export function createStatusArea(write: (text: string) => void): StatusArea {
  let shown: readonly string[] = [];

  function render(lines: readonly string[]): string {
    return lines.map((line) => `${ERASE_LINE}${line}\n`).join("");
  }

  return {
    draw(lines) {
      // Rewrite line by line (no flicker); erase what is left of a taller drawing.
      let text = up(shown.length) + render(lines);
      if (lines.length < shown.length) text += ERASE_BELOW;
      shown = [...lines];
      write(text);
    },
    print(text) {
      if (shown.length === 0) return write(text);
      const line = text.endsWith("\n") ? text : text + "\n";
      write(up(shown.length) + ERASE_BELOW + line + render(shown));
    },
    finish() {
      shown = [];
    },
    clear() {
      if (shown.length > 0) write(up(shown.length) + ERASE_BELOW);
      shown = [];
    },
  };
}
