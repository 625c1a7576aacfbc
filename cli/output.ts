/**
 * Formatting of command results: stable JSON for scripts, aligned tables for
 * people. Only the CLI formats; the core returns typed values.
 *
 * @module
 */

/** Pretty JSON with a trailing newline; bigints as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
}

/** A plain text table with a header row. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(cellText))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  return cells
    .map((row) =>
      row.map((cell, col) => (cell ?? "").padEnd(widths[col] ?? 0)).join("  ").trimEnd()
    )
    .join("\n") + "\n";
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  return String(value);
}

/** `1234567` ms → `20m34s`; `null` → `-`. */
export function duration(ms: number | null): string {
  if (ms === null) return "-";
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, "0")}h`;
}
