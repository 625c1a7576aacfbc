import assert from "node:assert/strict";
import { deadLetterFields, parseDeadLetter } from "./dead_letter.ts";
import { deadLetterView } from "./dead_letter_view.ts";

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
});
