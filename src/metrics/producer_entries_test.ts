import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createProducerMetrics } from "./producer.ts";

Deno.test("entries_produced_total counts the producer's entries by type", async () => {
  const registry = new Registry();
  const observer = createProducerMetrics(registry, { accountAlias: "support" });
  const ref = { account: "me@example.test", mailbox: "INBOX" };
  observer.published?.(ref, 3, 1);
  observer.mailboxReset?.(ref);
  observer.changesPublished?.(ref, "message_updated", 5);
  observer.changesPublished?.(ref, "message_deleted", 2);
  const text = await registry.metrics();
  const line = (type: string) =>
    text.split("\n").find((l) =>
      l.startsWith("email_ingestion_entries_produced_total{") && l.includes(`type="${type}"`)
    );
  assert.match(line("email") ?? "", / 3$/);
  assert.match(line("mailbox_reset") ?? "", / 1$/);
  assert.match(line("message_updated") ?? "", / 5$/);
  assert.match(line("message_deleted") ?? "", / 2$/);
  assert.doesNotMatch(text, /me@example\.test/);
});
