import assert from "node:assert/strict";
import { InvalidArgumentError } from "../errors.ts";
import {
  createMetricsRegistry,
  createWorkerMetrics,
  type MetricsRegistry,
  promRegistryOf,
} from "./metrics_registry.ts";

Deno.test("createMetricsRegistry() serves the Prometheus text with build info", async () => {
  const registry = createMetricsRegistry({ defaultMetrics: false, component: "test" });
  assert.match(registry.contentType, /^text\/plain/);
  assert.deepEqual(registry.names(), ["email_ingestion_build_info"]);
  assert.match(
    await registry.metrics(),
    /email_ingestion_build_info\{version="[^"]+",component="test"\} 1/,
  );
});

Deno.test("createWorkerMetrics() registers on the wrapped registry; a foreign one is refused", () => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = createWorkerMetrics(registry, { group: "g" });
  assert.equal(typeof observer.handled, "function");
  assert.ok(registry.names().includes("email_ingestion_emails_processed_total"));
  assert.ok(promRegistryOf(registry).getSingleMetric("email_ingestion_emails_processed_total"));
  const forged: MetricsRegistry = {
    contentType: "text/plain",
    metrics: () => Promise.resolve(""),
    names: () => [],
  };
  assert.throws(() => createWorkerMetrics(forged, { group: "g" }), InvalidArgumentError);
});
