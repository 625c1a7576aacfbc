/**
 * `--start all|latest|DATE`: where a mailbox without producer state begins.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** What a mailbox without state ingests first. */
export type StartPosition =
  | { readonly kind: "all" }
  | { readonly kind: "latest" }
  | { readonly kind: "since"; readonly date: Date };

/** Parses `all`, `latest` or a date (`2026-01-31`, or any ISO 8601 time). */
export function parseStartPosition(text: string): StartPosition {
  const value = text.trim().toLowerCase();
  if (value === "all") return { kind: "all" };
  if (value === "latest") return { kind: "latest" };
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : text.trim());
    if (!Number.isNaN(date.getTime())) return { kind: "since", date };
  }
  throw new UsageError(
    `--start must be all, latest or a date such as 2026-01-31: current value is "${text}"`,
  );
}
