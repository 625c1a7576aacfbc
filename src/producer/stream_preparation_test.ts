import assert from "node:assert/strict";
import { RedisError } from "../errors.ts";
import type { LogFields, Logger } from "../log/logger.ts";
import { DEFAULT_RETRY_POLICY } from "./failure_policy.ts";
import { prepareStreamUntilReady, type StreamPreparationOptions } from "./stream_preparation.ts";

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

function recordingLogger(lines: Array<{ message: string; fields?: LogFields }>): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (message, fields) => lines.push({ message, fields }),
    warn: (message, fields) => lines.push({ message, fields }),
    error: (message, fields) => lines.push({ message, fields }),
    child: () => logger,
  };
  return logger;
}

function failingTimes(
  times: number,
  message: string,
): { prepare: () => Promise<void>; calls: () => number } {
  let calls = 0;
  return {
    prepare: () => ++calls <= times ? Promise.reject(new Error(message)) : Promise.resolve(),
    calls: () => calls,
  };
}

function options(
  overrides: Partial<StreamPreparationOptions>,
  lines: Array<{ message: string; fields?: LogFields }> = [],
): StreamPreparationOptions {
  return {
    once: false,
    retry: { ...DEFAULT_RETRY_POLICY, baseMs: 1, capMs: 5 },
    logger: recordingLogger(lines),
    signal: new AbortController().signal,
    ...overrides,
  };
}

Deno.test("prepareStreamUntilReady() retries an OOM in a long run, logging the OOM with its fix", async () => {
  const lines: Array<{ message: string; fields?: LogFields }> = [];
  const kinds: Array<string | null> = [];
  const attempt = failingTimes(3, OOM);
  const ready = await prepareStreamUntilReady(
    attempt.prepare,
    options({ onRefused: (kind) => kinds.push(kind) }, lines),
  );
  assert.equal(ready, true);
  assert.equal(attempt.calls(), 4);
  const warnings = lines.filter((l) => /out of memory/.test(l.message));
  assert.equal(warnings.length, 3);
  assert.match(String(warnings[0]?.fields?.fix), /CONFIG SET maxmemory/);
  assert.equal(warnings[0]?.fields?.redis_failure, "oom");
  assert.deepEqual(kinds, ["oom", "oom", "oom", null]);
});

Deno.test("prepareStreamUntilReady() with once throws the OOM at the first refusal, naming the fix", async () => {
  const attempt = failingTimes(1, OOM);
  const error = await prepareStreamUntilReady(attempt.prepare, options({ once: true })).then(
    () => assert.fail("resolved"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RedisError);
  assert.equal(error.code, "REDIS_OOM");
  assert.match(error.message, /out of memory.*CONFIG SET maxmemory/);
  assert.equal(attempt.calls(), 1);
});

Deno.test("prepareStreamUntilReady() does not retry what waiting cannot fix (ACL)", async () => {
  const attempt = failingTimes(
    1,
    "NOPERM this user has no permissions to run the 'xgroup' command",
  );
  await assert.rejects(prepareStreamUntilReady(attempt.prepare, options({})), /REDIS_AUTH|ACL/);
  assert.equal(attempt.calls(), 1);
});

Deno.test("prepareStreamUntilReady() returns false when stopped while Redis refuses", async () => {
  const stop = new AbortController();
  const attempt = failingTimes(Infinity, OOM);
  const retry = { ...DEFAULT_RETRY_POLICY, baseMs: 60_000, capMs: 60_000 };
  const ready = prepareStreamUntilReady(attempt.prepare, options({ retry, signal: stop.signal }));
  setTimeout(() => stop.abort(), 20);
  assert.equal(await ready, false);
  assert.equal(attempt.calls(), 1);
});
