import assert from "node:assert/strict";
import { mailDate } from "./mail_date.ts";

Deno.test("mailDate() reads RFC 5322 dates, with comments and obsolete zones", () => {
  assert.equal(
    mailDate("Fri, 21 Nov 1997 09:55:06 -0600")?.toISOString(),
    "1997-11-21T15:55:06.000Z",
  );
  assert.equal(
    mailDate("Fri, 21 Nov 1997 09:55:06 -0800 (PST)")?.toISOString(),
    "1997-11-21T17:55:06.000Z",
  );
  assert.equal(
    mailDate("Fri, 21 Nov 1997 09:55:06 EST")?.toISOString(),
    "1997-11-21T14:55:06.000Z",
  );
});

Deno.test("mailDate() reads a date with an unreadable zone as UTC instead of losing it", () => {
  assert.equal(
    mailDate("Tue, 12 Oct 2010 16:21:05 H0500")?.toISOString(),
    "2010-10-12T16:21:05.000Z",
  );
});

Deno.test("mailDate() gives null for what is no date", () => {
  assert.equal(mailDate("not a date"), null);
  assert.equal(mailDate(""), null);
  assert.equal(mailDate(new Date(Number.NaN)), null);
  assert.equal(mailDate(undefined), null);
});
