import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";

Deno.test("createLogger() writes one JSON object per line with bound fields", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: () => new Date(0) })
    .child({ component: "producer" });
  log.info("batch committed", { count: 3 });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    msg: "batch committed",
    component: "producer",
    count: 3,
  });
});

Deno.test("createLogger() drops records below the level", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
  log.debug("no");
  log.info("no");
  log.warn("yes");
  log.error("yes");
  assert.equal(lines.length, 2);
});

Deno.test("createLogger() pretty format is one readable line", () => {
  const lines: string[] = [];
  createLogger({ format: "pretty", write: (l) => lines.push(l), now: () => new Date(0) })
    .warn("slow", { ms: 5 });
  assert.equal(lines[0], "00:00:00.000 WARN  slow  ms=5");
});
