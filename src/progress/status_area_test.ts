import assert from "node:assert/strict";
import { createStatusArea } from "./status_area.ts";
import { screen } from "./_terminal_screen.ts";

Deno.test("StatusArea keeps log lines above the status lines, through every redraw", () => {
  const writes: string[] = [];
  const area = createStatusArea((text) => writes.push(text));
  area.print("first log\n");
  area.draw(["INBOX  10/100"]);
  area.print("a log line while the bar is shown\n");
  area.draw(["INBOX  50/100", "Archive  1/4"]);
  area.print("producer stopped\n");
  area.draw(["INBOX  100/100"]);
  assert.deepEqual(screen(writes), [
    "first log",
    "a log line while the bar is shown",
    "producer stopped",
    "INBOX  100/100",
  ]);
});

Deno.test("StatusArea.finish() leaves the bar; later text goes below it", () => {
  const writes: string[] = [];
  const area = createStatusArea((text) => writes.push(text));
  area.draw(["INBOX  done"]);
  area.finish();
  area.print("after\n");
  assert.deepEqual(screen(writes), ["INBOX  done", "after"]);
});

Deno.test("StatusArea.clear() erases the status lines", () => {
  const writes: string[] = [];
  const area = createStatusArea((text) => writes.push(text));
  area.print("log\n");
  area.draw(["INBOX  3/9", "Archive  1/2"]);
  area.clear();
  area.print("next\n");
  assert.deepEqual(screen(writes), ["log", "next"]);
});
