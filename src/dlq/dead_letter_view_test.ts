import assert from "node:assert/strict";
import { deadLetterFields, parseDeadLetter } from "./dead_letter.ts";
import { deadLetterView, messageSummary } from "./dead_letter_view.ts";

const info = {
  sourceStream: "emails",
  sourceId: "1-0",
  group: "g",
  consumer: "c",
  reason: "max_attempts" as const,
  error: "boom",
  attempts: 5,
  firstFailure: "2026-01-02T03:04:05.000Z",
  lastFailure: "2026-01-02T03:05:05.000Z",
};

Deno.test("deadLetterView() shows a written dead letter in snake_case, without content by default", () => {
  const original = ["type", "email", "idempotency_key", "k", "payload", '{"a":1}'];
  const entry = parseDeadLetter("9-0", deadLetterFields(original, info));
  assert.deepEqual(deadLetterView(entry), {
    id: "9-0",
    reason: "max_attempts",
    error: "boom",
    attempts: 5,
    first_failure: "2026-01-02T03:04:05.000Z",
    last_failure: "2026-01-02T03:05:05.000Z",
    consumer: "c",
    group: "g",
    source_stream: "emails",
    source_id: "1-0",
    type: "email",
    idempotency_key: "k",
    payload_bytes: 7,
    uid: null,
    subject: null,
  });
  assert.deepEqual(deadLetterView(entry, true).fields, {
    type: "email",
    idempotency_key: "k",
    payload: '{"a":1}',
  });
});

Deno.test("deadLetterView() gives null for fields a malformed original lacks", () => {
  const entry = parseDeadLetter("9-1", deadLetterFields(["junk", "x"], info));
  const view = deadLetterView(entry);
  assert.equal(view.type, null);
  assert.equal(view.idempotency_key, null);
  assert.equal(view.payload_bytes, null);
  assert.equal(view.uid, null);
  assert.equal(view.subject, null);
});

Deno.test("deadLetterView() shows the uid and subject of the stored email payload", () => {
  const payload = JSON.stringify({ uid: 42, subject: "Invoice 7", body_text: "secret" });
  const entry = parseDeadLetter(
    "9-2",
    deadLetterFields(["type", "email", "payload", payload], info),
  );
  const view = deadLetterView(entry);
  assert.equal(view.uid, 42);
  assert.equal(view.subject, "Invoice 7");
  assert.equal(JSON.stringify(view).includes("secret"), false, "no body in the listing");
});

Deno.test("messageSummary() gives nulls for payloads that are not JSON objects or lack the fields", () => {
  for (const payload of [undefined, "not json", "[1,2]", "null", '{"uid":"7","subject":3}']) {
    assert.deepEqual(messageSummary(payload), { uid: null, subject: null }, String(payload));
  }
  assert.deepEqual(messageSummary('{"uid":3,"subject":null}'), { uid: 3, subject: null });
});
