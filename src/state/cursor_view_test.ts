import assert from "node:assert/strict";
import { cursorView } from "./cursor_view.ts";

const CURSOR = {
  account: "a@example.test",
  mailbox: "INBOX",
  lastUid: 12,
  uidValidity: 7,
  lastPoll: "2026-01-01T00:00:00.000Z",
  totalEmails: 12,
};

Deno.test("cursorView() uses the seed's snake_case key names", () => {
  assert.deepEqual(cursorView(CURSOR), {
    account: "a@example.test",
    mailbox: "INBOX",
    last_uid: 12,
    uidvalidity: 7,
    last_poll: "2026-01-01T00:00:00.000Z",
    total_emails: 12,
  });
});

Deno.test("cursorView() shows a label instead of the address when given one", () => {
  assert.equal(cursorView(CURSOR, "acct-1").account, "acct-1");
});
