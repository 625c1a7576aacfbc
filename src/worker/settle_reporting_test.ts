import assert from "node:assert/strict";
import { ReplyError } from "ioredis";
import type { Logger } from "../log/logger.ts";
import { reportingSettlements, reportSettleFailure } from "./settle_reporting.ts";
import { SettleAbandonedError } from "./settlements.ts";

/** A logger that keeps `level message` lines. */
function memoryLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: () => logger,
  };
  return logger;
}

Deno.test("reportingSettlements() sets the last error while blocked, clears it and wakes the loop after", async () => {
  const lines: string[] = [];
  const errors: (string | null)[] = [];
  const refused: string[] = [];
  let wakes = 0;
  const settlements = reportingSettlements({
    signal: new AbortController().signal,
    logger: memoryLogger(lines),
    observer: { settleRefused: (kind) => refused.push(kind) },
    setLastError: (error) => errors.push(error),
    wake: () => wakes++,
    random: () => 0,
  });
  let calls = 0;
  const oom = "OOM command not allowed when used memory > 'maxmemory'.";
  await settlements.settle(
    "1-0",
    () => ++calls === 1 ? Promise.reject(new ReplyError(oom)) : Promise.resolve(true),
  );
  assert.equal(errors.length, 3, "blocked, refused, unblocked");
  assert.match(errors[0]!, /out of memory/);
  assert.equal(errors.at(-1), null);
  assert.deepEqual(refused, ["oom"]);
  assert.equal(wakes, 1);
  assert.deepEqual(lines.map((l) => l.split(" ")[0]), ["error", "warn", "info"]);
});

Deno.test("reportSettleFailure() tells a shutdown give-up from a failed settle", () => {
  const lines: string[] = [];
  const log = memoryLogger(lines);
  reportSettleFailure(log, "1-0", new SettleAbandonedError("1-0"));
  const described = reportSettleFailure(log, "2-0", new Error("Connection is closed."));
  assert.match(described, /Connection is closed/);
  assert.match(lines[0]!, /^warn shutdown: outcome of a handled entry not recorded/);
  assert.match(lines[1]!, /^error could not settle entry/);
});
