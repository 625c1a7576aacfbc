/**
 * What a valid payload is: the fields each entry type's payload must have,
 * checked when a worker decodes an entry (`decodeEntry` in `./entry.ts`,
 * which owns the entry format and re-exports {@link SCHEMA_VERSION}).
 *
 * @module
 */

import type { EntryType } from "./entry.ts";

/** Version of the payload schema; bumped on incompatible change. */
export const SCHEMA_VERSION = 1;

/** What is wrong with a `type` entry's parsed `payload`; empty when it has the fields it must. */
export function payloadProblems(type: EntryType, payload: unknown): string[] {
  return PROBLEMS[type](payload);
}

/** The fields an email payload must have, by kind (lists built once: the check runs per entry). */
const EMAIL_STRINGS = ["account", "mailbox", "fetched_at"];
const EMAIL_INTEGERS = ["uid", "uidvalidity", "size"];
const EMAIL_ARRAYS = ["to", "cc", "attachments", "flags"];

function emailPayloadProblems(payload: unknown): string[] {
  if (!isRecord(payload)) return ["payload is not an object"];
  const problems: string[] = [];
  if (payload.schema_version !== SCHEMA_VERSION) {
    problems.push(`schema_version must be ${SCHEMA_VERSION}`);
  }
  for (const field of EMAIL_STRINGS) {
    if (typeof payload[field] !== "string") problems.push(`${field} must be a string`);
  }
  for (const field of EMAIL_INTEGERS) {
    if (!Number.isInteger(payload[field])) problems.push(`${field} must be an integer`);
  }
  for (const field of EMAIL_ARRAYS) {
    if (!Array.isArray(payload[field])) problems.push(`${field} must be an array`);
  }
  return problems;
}

function resetPayloadProblems(payload: unknown): string[] {
  if (!isRecord(payload)) return ["payload is not an object"];
  return ["account", "mailbox"].filter((f) => typeof payload[f] !== "string").map((f) =>
    `${f} must be a string`
  );
}

function changePayloadProblems(payload: unknown, arrays: readonly string[]): string[] {
  if (!isRecord(payload)) return ["payload is not an object"];
  const problems: string[] = [];
  for (const field of ["account", "mailbox", "email_key", "detected_at"]) {
    if (typeof payload[field] !== "string") problems.push(`${field} must be a string`);
  }
  for (const field of ["uid", "uidvalidity"]) {
    if (!Number.isInteger(payload[field])) problems.push(`${field} must be an integer`);
  }
  for (const field of arrays) {
    if (!Array.isArray(payload[field])) problems.push(`${field} must be an array`);
  }
  return problems;
}

const PROBLEMS: Record<EntryType, (payload: unknown) => string[]> = {
  email: emailPayloadProblems,
  mailbox_reset: resetPayloadProblems,
  message_updated: (p) => changePayloadProblems(p, ["old_flags", "new_flags"]),
  message_deleted: (p) => changePayloadProblems(p, ["last_flags"]),
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
