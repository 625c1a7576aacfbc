/**
 * docs/ERRORS.md's table of error codes, rendered from the one list in
 * src/errors.ts. `deno task docs` writes it; src/errors_test.ts checks it.
 *
 * @module
 */

import { ERROR_CODES } from "../src/errors.ts";

const START = "<!-- error-codes:start -->";
const END = "<!-- error-codes:end -->";

/** The Markdown table: one row per code, in the order of {@link ERROR_CODES}. */
export function errorCodeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, meaning]) =>
    `| \`${code}\` | ${meaning.replaceAll("|", "\\|")} |`
  );
  return ["| Code | Meaning |", "|---|---|", ...rows].join("\n");
}

/** `document` with the text between its markers replaced by {@link errorCodeTable}. */
export function withErrorCodeTable(document: string): string {
  const pattern = new RegExp(`${START}[\\s\\S]*${END}`);
  if (!pattern.test(document)) {
    throw new Error(`Cannot update the error table: the document has no ${START} ... ${END}`);
  }
  return document.replace(pattern, `${START}\n${errorCodeTable()}\n${END}`);
}

/** The table rows between the markers of `document`, cells trimmed (ignores `deno fmt` padding). */
export function tableRows(document: string): string[][] {
  const start = document.indexOf(START);
  const end = document.indexOf(END);
  if (start < 0 || end < start) return [];
  return document.slice(start + START.length, end).split("\n")
    .filter((line) => line.trim().startsWith("|") && !/^\|[-\s|]+\|$/.test(line.trim()))
    .map((line) => line.trim().slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}
