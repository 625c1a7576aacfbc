/**
 * The Date header as an instant. `Date.parse` reads RFC 5322 dates, but real
 * mail adds comments (`(PDT)`), obsolete or made-up zones (`H0500`) and stray
 * spaces; like Python's `email`, a date whose zone cannot be read is taken as
 * UTC rather than lost.
 *
 * @module
 */

/** `value` (a Date, or a header value) as a valid Date, or `null`. */
export function mailDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  const text = value.replace(/\([^()]*\)/g, " ").replace(/\s+/g, " ").trim();
  const direct = new Date(text);
  if (!Number.isNaN(direct.getTime())) return direct;
  // An unreadable zone after the time: read the rest as UTC.
  const zoneless = /^(.*\d{1,2}:\d{2}(?::\d{2})?)(?:\s+\S+)?$/.exec(text);
  if (!zoneless) return null;
  const utc = new Date(`${zoneless[1]} +0000`);
  return Number.isNaN(utc.getTime()) ? null : utc;
}
