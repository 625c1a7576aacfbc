/**
 * The permissions and V8 flags every way of running `ingest` starts it with:
 * the `ingest` task in deno.json, the compiled binary (scripts/compile.ts), the
 * bundle installed on PATH (scripts/bundle.ts) and the benchmarks.
 * tests/compile_test.ts checks that the task and these agree.
 *
 * @module
 */

/** Permission flags `ingest` needs. */
export const PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys",
  // The file sink drops its synced pages from the page cache through libc (src/sinks/page_cache.ts).
  "--allow-ffi",
];

/**
 * V8 flags `ingest` runs with. A young generation of at most 8 MB per
 * semi-space: with V8's defaults it grows to ≈ 16 MB a semi-space and RSS
 * climbs with a long sync (231 MB over 30,000 messages); at 8 MB the same sync
 * peaked at 192 MB. A 2 MB cap (the wave-2 setting) kept it at ≈ 172 MB but
 * promoted in-flight payloads: ≈ 3.5 times the scavenges, ≈ 8 % more
 * producer CPU and ≈ 25 % more worker CPU per entry (figures: README,
 * Performance).
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/**
 * The `deno run` arguments for V8 flags written the way the benchmarks take
 * them (space-separated, e.g. `--max-semi-space-size=8 --trace-gc`): one
 * `--v8-flags=…`, or none when `flags` is blank (V8's defaults).
 */
export function v8FlagsArguments(flags: string): string[] {
  const list = flags.trim().split(/\s+/).filter((flag) => flag !== "");
  return list.length === 0 ? [] : [`--v8-flags=${list.join(",")}`];
}

/** `--v8-flags=…` for a `deno run`, `deno install` or `deno compile` line. */
export function v8FlagsArgument(): string {
  return `--v8-flags=${V8_FLAGS.join(",")}`;
}

/** The `deno install` line that puts `entry` on PATH as `ingest`. */
export function installCommand(entry: string): string {
  return `deno install --global --force --name ingest ${PERMISSIONS.join(" ")} ` +
    `${v8FlagsArgument()} ${entry}`;
}
