import assert from "node:assert/strict";
import { browserCommand } from "./open_browser.ts";

Deno.test("browserCommand() uses open on macOS and xdg-open in a Linux desktop session", () => {
  assert.deepEqual(browserCommand("http://x/", "darwin"), ["open", "http://x/"]);
  assert.deepEqual(browserCommand("http://x/", "linux", { DISPLAY: ":0" }), [
    "xdg-open",
    "http://x/",
  ]);
});

Deno.test("browserCommand() does not try on a Linux server without a display", () => {
  assert.equal(browserCommand("http://x/", "linux", {}), undefined);
});
