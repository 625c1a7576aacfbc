import assert from "node:assert/strict";
import {
  AuthError,
  ConfigError,
  ERROR_CODES,
  ImapError,
  type IngestError,
  InvalidArgumentError,
  isErrorCode,
  isRetryable,
  PermanentError,
  RedisError,
} from "./errors.ts";
import { errorCodeTable, tableRows } from "../scripts/error_docs.ts";

const root = new URL("../", import.meta.url);

Deno.test("every error code has a one-line meaning", () => {
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z0-9_]*$/, `${code} is UPPER_SNAKE`);
    assert.ok(meaning.length > 10 && meaning.length <= 100, `${code}: ${meaning}`);
    assert.ok(!meaning.includes("\n"), `${code} means one line`);
  }
});

Deno.test("the near-synonym codes are merged into one", () => {
  assert.ok(isErrorCode("REDIS_UNREACHABLE"));
  for (const gone of ["REDIS_UNAVAILABLE", "IMAP_UNRESPONSIVE", "IMAP_AUTH_FAILED"]) {
    assert.ok(!isErrorCode(gone), `${gone} was merged`);
  }
  assert.ok(!isErrorCode("toString"), "only own keys are codes");
});

Deno.test("docs/ERRORS.md lists exactly the codes of ERROR_CODES (run `deno task docs`)", async () => {
  const documented = tableRows(await Deno.readTextFile(new URL("docs/ERRORS.md", root)));
  const expected = tableRows(
    `<!-- error-codes:start -->\n${errorCodeTable()}\n<!-- error-codes:end -->`,
  );
  assert.ok(expected.length > Object.keys(ERROR_CODES).length, "header and one row per code");
  assert.deepEqual(documented, expected);
});

Deno.test("the error classes carry their code and retry verdict", () => {
  const cases: Array<[IngestError, string, boolean]> = [
    [new ConfigError(["X is missing"]), "CONFIG_INVALID", false],
    [new PermanentError("no"), "PERMANENT", false],
    [new InvalidArgumentError("Cannot x: current value is -1"), "INVALID_ARGUMENT", false],
    [new RedisError("REDIS_UNREACHABLE", "down"), "REDIS_UNREACHABLE", true],
    [
      new ImapError("IMAP_MAILBOX_NOT_FOUND", "no", { retryable: false }),
      "IMAP_MAILBOX_NOT_FOUND",
      false,
    ],
    [new AuthError("INVALID_GRANT", "again", { reauthRequired: true }), "INVALID_GRANT", false],
  ];
  for (const [error, code, retryable] of cases) {
    assert.equal(error.code, code);
    assert.equal(isRetryable(error), retryable, code);
    assert.ok(isErrorCode(error.code));
    assert.equal(error.name, error.constructor.name);
  }
});

/** Files still throwing plain errors because another helper is rewriting them right now. */
const PLAIN_THROW_PENDING = new Set<string>([]);

Deno.test("the core throws IngestErrors, never a bare Error, RangeError or TypeError", async () => {
  const offenders: string[] = [];
  for await (const path of sourceFiles(new URL("src/", root), "src/")) {
    if (path.endsWith("_test.ts") || PLAIN_THROW_PENDING.has(path)) continue;
    const text = await Deno.readTextFile(new URL(path, root));
    text.split("\n").forEach((line, index) => {
      if (/\b(throw|reject\()\s*new (Error|RangeError|TypeError)\(/.test(line)) {
        offenders.push(`${path}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, [], "throw an IngestError subclass with a code from ERROR_CODES");
});

async function* sourceFiles(dir: URL, prefix: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      yield* sourceFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (entry.name.endsWith(".ts")) yield `${prefix}${entry.name}`;
  }
}
