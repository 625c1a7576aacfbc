import assert from "node:assert/strict";
import { closableOutput, OutputClosedError } from "./output_stream.ts";

function pipeThatBreaksAfter(bytes: number) {
  const written: Uint8Array[] = [];
  let left = bytes;
  return {
    written,
    writeSync(chunk: Uint8Array): number {
      if (left <= 0) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
      const n = Math.min(left, chunk.length);
      written.push(chunk.slice(0, n));
      left -= n;
      return n;
    },
  };
}

Deno.test("closableOutput() writes everything while the reader is there", () => {
  const pipe = pipeThatBreaksAfter(1000);
  let closedCalls = 0;
  const output = closableOutput(pipe, () => closedCalls++);
  output.write("hello\n");
  output.write("world\n");
  assert.equal(
    new TextDecoder().decode(new Uint8Array(pipe.written.flatMap((c) => [...c]))),
    "hello\nworld\n",
  );
  assert.equal(output.closed, false);
  assert.equal(closedCalls, 0);
});

Deno.test("closableOutput() turns a broken pipe into OutputClosedError and calls onClosed once", () => {
  const pipe = pipeThatBreaksAfter(4);
  let closedCalls = 0;
  const output = closableOutput(pipe, () => closedCalls++);
  assert.throws(() => output.write("hello\n"), OutputClosedError);
  assert.equal(output.closed, true);
  assert.throws(() => output.write("again\n"), OutputClosedError);
  assert.equal(closedCalls, 1);
});

Deno.test("closableOutput() lets other write errors through", () => {
  const output = closableOutput({
    writeSync: () => {
      throw new Deno.errors.PermissionDenied("no");
    },
  }, () => {});
  assert.throws(() => output.write("x"), Deno.errors.PermissionDenied);
  assert.equal(output.closed, false);
});
