import assert from "node:assert/strict";
import { MAX_MAILBOXES_PER_ACCOUNT, planAccount } from "./account_input.ts";
import type { AccountRecord } from "./registry.ts";

const NONE = new Set<string>();

Deno.test("planAccount() defaults to oauth2 on INBOX without an alias", () => {
  const { plan, problems } = planAccount(
    { account: "a@example.test", tokenKeyConfigured: false },
    undefined,
    NONE,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(plan, {
    account: "a@example.test",
    auth: "oauth2",
    mailboxes: ["INBOX"],
    alias: null,
    password: undefined,
  });
});

Deno.test("planAccount() accepts 15 mailboxes and refuses 16", () => {
  const boxes = (n: number) => Array.from({ length: n }, (_, i) => `M${i}`);
  const input = { account: "a@example.test", tokenKeyConfigured: true };
  const ok = planAccount(
    { ...input, mailboxes: boxes(MAX_MAILBOXES_PER_ACCOUNT) },
    undefined,
    NONE,
  );
  assert.deepEqual(ok.problems, []);
  const tooMany = planAccount({ ...input, mailboxes: boxes(16) }, undefined, NONE);
  assert.equal(tooMany.problems.length, 1);
  assert.match(tooMany.problems[0]!, /16 mailboxes given: at most 15/);
});

Deno.test("planAccount() on update keeps the stored auth, mailboxes, alias and sealed password", () => {
  const existing: AccountRecord = {
    version: 1,
    account: "a@example.test",
    alias: "a",
    auth: "password",
    mailboxes: ["INBOX", "Sent"],
    password_sealed: { alg: "A256GCM", key_id: "k", iv: "i", ciphertext: "c" },
    added_at: "2026-01-01T00:00:00.000Z",
  };
  const { plan, problems } = planAccount(
    { account: "a@example.test", tokenKeyConfigured: true },
    existing,
    NONE,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(plan, {
    account: "a@example.test",
    auth: "password",
    mailboxes: ["INBOX", "Sent"],
    alias: "a",
    password: undefined,
  });
  const toPassword = planAccount(
    { account: "a@example.test", auth: "password", tokenKeyConfigured: true },
    { ...existing, auth: "oauth2", password_sealed: null },
    NONE,
  );
  assert.match(toPassword.problems.join("\n"), /needs --password-stdin/);
});

Deno.test("planAccount() refuses addresses that would break key names", () => {
  for (const account of ["a:b@example.test", "{x}@example.test", "a@b", "a b@example.test", ""]) {
    const { problems } = planAccount({ account, tokenKeyConfigured: false }, undefined, NONE);
    assert.match(problems.join("\n"), /is not an email address/, account);
  }
});
