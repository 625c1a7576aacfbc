/**
 * Test-only: a minimal email commit entry for the publisher tests.
 *
 * @module
 */

import { type EmailPayload, SCHEMA_VERSION } from "../stream/entry.ts";
import type { CommitEntry } from "./commit.ts";

/** An email entry of `account`'s INBOX with UID `uid` under `uidvalidity`. */
export function testEntry(account: string, uid: number, uidvalidity: number): CommitEntry {
  const payload: EmailPayload = {
    schema_version: SCHEMA_VERSION,
    account,
    mailbox: "INBOX",
    uid,
    uidvalidity,
    message_id: `<${uid}@test>`,
    from: null,
    to: [],
    cc: [],
    reply_to: [],
    subject: null,
    date: null,
    internal_date: null,
    in_reply_to: null,
    references: [],
    body_text: "",
    body_html_preview: "",
    size: 1,
    flags: [],
    headers: {},
    attachments: [],
    gmail: null,
    fetched_at: new Date().toISOString(),
  };
  return { payload, dedupeId: `mid:<${uid}@test>` };
}
