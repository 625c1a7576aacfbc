import assert from "node:assert/strict";

/** The project's own modules reachable (value and type imports) from `entry`, each with its local imports. */
async function localImportGraph(entry: URL): Promise<Map<string, string[]>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  };
  const local = (specifier: string) => specifier.startsWith("file://");
  const graph = new Map<string, string[]>();
  for (const module of info.modules.filter((m) => local(m.specifier))) {
    // Type-only imports count too: they tie the files together just the same.
    const imports = (module.dependencies ?? []).flatMap((d) =>
      [d.code?.specifier, d.type?.specifier].filter((s): s is string => s !== undefined)
    );
    graph.set(module.specifier, imports.filter(local));
  }
  return graph;
}

/** One import cycle through a module whose path contains `under`, or `undefined`. */
function findCycle(graph: Map<string, string[]>, under: string): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") {
      const cycle = path.slice(path.indexOf(node)).concat(node);
      return cycle.some((m) => m.includes(under)) ? cycle : undefined;
    }
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("findCycle() finds a cycle through cli/ and ignores acyclic graphs", () => {
  const cyclic = new Map([
    ["file:///p/cli/a.ts", ["file:///p/cli/b.ts"]],
    ["file:///p/cli/b.ts", ["file:///p/src/c.ts"]],
    ["file:///p/src/c.ts", ["file:///p/cli/a.ts"]],
  ]);
  assert.deepEqual(findCycle(cyclic, "/cli/")?.length, 4);
  const acyclic = new Map([
    ["file:///p/cli/a.ts", ["file:///p/cli/b.ts", "file:///p/src/c.ts"]],
    ["file:///p/cli/b.ts", ["file:///p/src/c.ts"]],
    ["file:///p/src/c.ts", []],
  ]);
  assert.equal(findCycle(acyclic, "/cli/"), undefined);
});

Deno.test("cli/ has no import cycle", async () => {
  const graph = await localImportGraph(new URL("./main.ts", import.meta.url));
  assert.ok(graph.size > 20, `only ${graph.size} local modules found`);
  const root = new URL("../", import.meta.url).href;
  const cycle = findCycle(graph, "/cli/");
  assert.equal(
    cycle,
    undefined,
    `import cycle: ${cycle?.map((m) => m.replace(root, "")).join(" -> ")}`,
  );
});
