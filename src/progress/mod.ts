/**
 * Progress bars and the status area of `ingest produce` on a terminal (stderr only).
 *
 * @module
 */

export * from "./progress_renderer.ts";
export {
  formatBar,
  formatLine,
  formatLive,
  formatSeconds,
  type LiveState,
  progressEta,
  progressRate,
  type ProgressState,
} from "./progress_format.ts";
export * from "./status_area.ts";
