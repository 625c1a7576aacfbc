import assert from "node:assert/strict";
import { isEnvelopePlaceholder, parseAddressList } from "./address_list.ts";

Deno.test("parseAddressList() finds the address behind a display name with @ in it", () => {
  assert.deepEqual(parseAddressList("Mikel@Lindsaar <mikel@example.org>, b@x.org"), [
    "mikel@example.org",
    "b@x.org",
  ]);
});

Deno.test("parseAddressList() reads names, groups, comments and quoted local parts", () => {
  assert.deepEqual(
    parseAddressList(
      '"Doe, Jane" <jane@x.org>, bob@y.org (Bob), Team: c@z.org, d@z.org;, "odd one"@w.org',
    ),
    ["jane@x.org", "bob@y.org", "c@z.org", "d@z.org", '"odd one"@w.org'],
  );
});

Deno.test("parseAddressList() skips entries that are not addr-specs", () => {
  assert.deepEqual(parseAddressList("undisclosed-recipients:;"), []);
  assert.deepEqual(parseAddressList("undisclosed-recipient:@list.example.org;"), []);
  assert.deepEqual(parseAddressList("just-a-name"), []);
  assert.deepEqual(parseAddressList(null), []);
});

Deno.test("isEnvelopePlaceholder() spots what the server put for what it could not parse", () => {
  assert.ok(isEnvelopePlaceholder("MISSING_MAILBOX@MISSING_DOMAIN"));
  assert.ok(isEnvelopePlaceholder("Undisclosed-Recipient@SYNTAX_ERROR"));
  assert.ok(isEnvelopePlaceholder("someone@MISSING_DOMAIN"));
  assert.ok(isEnvelopePlaceholder("no-at-sign"));
  assert.ok(!isEnvelopePlaceholder("real@example.org"));
});

Deno.test("parseAddressList() reads one plain address as nodemailer's addressparser does", async () => {
  const { default: addressparser } = await import("nodemailer/lib/addressparser");
  const cases = [
    '"Ada Lovelace" <ada@example.test>',
    "  Grace Hopper <grace@example.test> ",
    "linus@example.test",
    "J. R. Doe <j.r.doe+tag@sub.example.test>",
    "<bare@example.test>",
    '"Doe, Jane" <jane@x.org>',
    "Jürgen Groß <juergen@example.test>",
  ];
  for (const value of cases) {
    const expected = (addressparser(value) as { address?: string }[]).map((a) => a.address);
    assert.deepEqual(parseAddressList(value), expected, value);
  }
});
