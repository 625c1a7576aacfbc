/**
 * Keeps files and functions readable (STYLE.md: files under 350 lines,
 * functions under 60). Declarative tables are exempt when they say so with a
 * `// size: declarative table` comment; the allow-lists below hold what is
 * being split now and shrink as that work merges.
 */

import assert from "node:assert/strict";

const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 60;
const DECLARATIVE = "// size: declarative table";

/** Files over the limit that another helper is splitting right now (issue 12); trim after merging. */
const LONG_FILES_PENDING = new Set<string>([]);

/** Top-level functions over the limit, by file, still to be split; trim as they are. */
const LONG_FUNCTIONS_PENDING = new Set<string>([]);

const root = new URL("../", import.meta.url);

async function* sourceFiles(dir: URL, prefix: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      yield* sourceFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (entry.name.endsWith(".ts")) yield `${prefix}${entry.name}`;
  }
}

async function sources(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for await (const path of sourceFiles(new URL("src/", root), "src/")) {
    files.set(path, (await Deno.readTextFile(new URL(path, root))).replace(/\n$/, "").split("\n"));
  }
  return files;
}

/** Top-level `function` declarations and their length (to the first `}` in column 0). */
export function topLevelFunctions(lines: readonly string[]): { name: string; lines: number }[] {
  const found: { name: string; lines: number }[] = [];
  let start = -1;
  let name = "";
  lines.forEach((line, index) => {
    const declared = /^(?:export )?(?:async )?function\*? ?(\w+)/.exec(line);
    if (declared && start < 0) {
      start = index;
      name = declared[1]!;
    } else if (start >= 0 && line.startsWith("}")) {
      found.push({ name, lines: index - start + 1 });
      start = -1;
    }
  });
  return found;
}

Deno.test("topLevelFunctions() measures a declaration to its closing brace", () => {
  const text = [
    "export async function a(",
    "  x: number,",
    "): void {",
    "  return;",
    "}",
    "const b = 1;",
  ];
  assert.deepEqual(topLevelFunctions(text), [{ name: "a", lines: 5 }]);
});

Deno.test(`no src/ file is over ${MAX_FILE_LINES} lines (but declarative tables)`, async () => {
  const long: string[] = [];
  for (const [path, lines] of await sources()) {
    if (lines.length <= MAX_FILE_LINES || LONG_FILES_PENDING.has(path)) continue;
    if (lines.some((line) => line.includes(DECLARATIVE))) continue;
    long.push(`${path}: ${lines.length} lines`);
  }
  assert.deepEqual(long, [], "split these files by concept (one concept per file)");
});

Deno.test(`no top-level src/ function is over ${MAX_FUNCTION_LINES} lines`, async () => {
  const long: string[] = [];
  for (const [path, lines] of await sources()) {
    if (path.endsWith("_test.ts")) continue;
    for (const fn of topLevelFunctions(lines)) {
      const id = `${path}:${fn.name}`;
      if (fn.lines <= MAX_FUNCTION_LINES || LONG_FUNCTIONS_PENDING.has(id)) continue;
      const start = lines.findIndex((line) => new RegExp(`function\\*? ?${fn.name}\\b`).test(line));
      if (lines[start - 1]?.includes(DECLARATIVE)) continue;
      long.push(`${id}: ${fn.lines} lines`);
    }
  }
  assert.deepEqual(long, [], "split these functions (a function does one thing)");
});

Deno.test("the allow-lists hold only files and functions that are still too long", async () => {
  const files = await sources();
  for (const path of LONG_FILES_PENDING) {
    const lines = files.get(path);
    if (lines) {
      assert.ok(lines.length > MAX_FILE_LINES, `${path} is short now: remove it from the list`);
    }
  }
  for (const id of LONG_FUNCTIONS_PENDING) {
    const [path, name] = id.split(":") as [string, string];
    const fn = topLevelFunctions(files.get(path) ?? []).find((f) => f.name === name);
    if (fn) assert.ok(fn.lines > MAX_FUNCTION_LINES, `${id} is short now: remove it from the list`);
  }
});
