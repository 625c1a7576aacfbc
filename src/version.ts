/** The version of `ingest`, reported by `--version`, `/status` and metrics. */
export const VERSION = "0.1.0";
