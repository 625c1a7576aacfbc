import assert from "node:assert/strict";
import { type Delivery, deliveryDocument, deliveryJson } from "./sink.ts";
import { SCHEMA_VERSION } from "../stream/entry.ts";

const payload = {
  schema_version: SCHEMA_VERSION,
  account: "a@x.test",
  mailbox: 'INBOX "quoted" \u2028',
  previous_uidvalidity: 1,
  uidvalidity: 2,
  at: "2026-01-01T00:00:00.000Z",
};

function delivery(payloadJson: string | undefined): Delivery {
  return {
    id: "1700000000000-0",
    type: "mailbox_reset",
    idempotencyKey: 'a@x.test:INBOX:reset:"1":2',
    payload,
    payloadJson,
    attempt: 3,
    signal: new AbortController().signal,
  };
}

Deno.test("deliveryJson() embeds the stored payload text and gives the same line as serialising again", () => {
  const expected = JSON.stringify(deliveryDocument(delivery(undefined)));
  assert.equal(deliveryJson(delivery(undefined)), expected);
  assert.equal(deliveryJson(delivery(JSON.stringify(payload))), expected);
  // The stored text is used as it is: another writer's spacing stays.
  const spaced = JSON.stringify(payload).replace(`"uidvalidity":2`, `"uidvalidity": 2`);
  assert.notEqual(spaced, JSON.stringify(payload));
  const line = deliveryJson(delivery(spaced));
  assert.ok(line.endsWith(`"payload":${spaced}}`));
  assert.deepEqual(JSON.parse(line), JSON.parse(expected));
});

Deno.test("deliveryJson() serialises a pretty-printed stored payload again, so a document stays one line", () => {
  const pretty = JSON.stringify(payload, null, 2);
  assert.equal(
    deliveryJson(delivery(pretty)),
    JSON.stringify(deliveryDocument(delivery(undefined))),
  );
  assert.equal(deliveryJson(delivery(pretty.replaceAll("\n", "\r"))).includes("\r"), false);
});
