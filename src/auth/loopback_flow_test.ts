import assert from "node:assert/strict";
import { parseCallback, pastedParams } from "./loopback_flow.ts";

const params = (query: string) => new URLSearchParams(query);

Deno.test("parseCallback() accepts a code with the expected state", () => {
  assert.deepEqual(parseCallback(params("state=s1&code=abc&scope=x"), "s1"), {
    kind: "code",
    code: "abc",
  });
});

Deno.test("parseCallback() rejects a wrong or missing state before looking at the code", () => {
  for (const query of ["state=other&code=abc", "code=abc", "state=other&error=access_denied"]) {
    const outcome = parseCallback(params(query), "s1");
    assert.equal(outcome?.kind, "error");
    assert.equal(outcome?.kind === "error" && outcome.error.code, "SETUP_STATE_MISMATCH");
  }
});

Deno.test("parseCallback() turns error=access_denied into SETUP_ACCESS_DENIED", () => {
  const outcome = parseCallback(params("state=s1&error=access_denied"), "s1");
  assert.equal(outcome?.kind === "error" && outcome.error.code, "SETUP_ACCESS_DENIED");
});

Deno.test("parseCallback() ignores requests that are not OAuth redirects (favicon)", () => {
  assert.equal(parseCallback(params(""), "s1"), undefined);
});

Deno.test("pastedParams() reads a full redirect address or just its query", () => {
  assert.equal(pastedParams(" http://127.0.0.1:4321/?state=s&code=c \n")?.get("code"), "c");
  assert.equal(pastedParams("?state=s&code=c")?.get("state"), "s");
  assert.equal(pastedParams("code=c&state=s")?.get("code"), "c");
  assert.equal(pastedParams("hello"), undefined);
  assert.equal(pastedParams(""), undefined);
});
