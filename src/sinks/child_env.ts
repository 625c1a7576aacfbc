/**
 * The environment of an `exec:` sink's command: an allow-list, never the
 * worker's whole environment, which holds `IMAP_PASSWORD`, `WEBHOOK_SECRET`,
 * `INGEST_TOKEN_KEY`, `GOOGLE_CLIENT_SECRET` and `REDIS_URL` with its
 * password. The command gets what a program needs to run (`PATH`, `HOME`,
 * the locale, the time zone), plus the variables the operator names in
 * `EXEC_SINK_ENV`; the sink adds its own `INGEST_*` variables on top.
 *
 * @module
 */

/** Passed on always: what programs need to find binaries, files and the locale. */
export const BASE_CHILD_ENV: readonly string[] = ["PATH", "HOME", "LANG", "TZ"];

/** Whether `name` is passed on without being named (the base list, or a `LC_*` locale variable). */
function isBase(name: string): boolean {
  return BASE_CHILD_ENV.includes(name) || /^LC_[A-Z_]+$/.test(name);
}

/**
 * The variables of `parent` that an exec sink's command may see: the base
 * list, `LC_*`, and every name in `pass` (`EXEC_SINK_ENV`) that is set.
 */
export function childEnvironment(
  parent: Readonly<Record<string, string>>,
  pass: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (isBase(name) || pass.includes(name)) env[name] = value;
  }
  return env;
}
