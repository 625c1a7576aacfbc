/**
 * How backfill progress reads: rate, ETA, a bar per mailbox, a plain log line,
 * and the "live" line of a mailbox that caught up. Pure functions of the
 * state the renderer (progress_renderer.ts) keeps.
 *
 * @module
 */

/** One mailbox's current sync round. */
export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total: number;
  /** When this round's first report arrived, and how much was done then. */
  readonly startedAt: number;
  readonly startDone: number;
  /** When the last report arrived. */
  readonly updatedAt: number;
}

/** Messages per second since the round started, or `undefined` before there is a rate. */
export function progressRate(state: ProgressState): number | undefined {
  const seconds = (state.updatedAt - state.startedAt) / 1000;
  const done = state.done - state.startDone;
  if (seconds <= 0 || done <= 0) return undefined;
  return done / seconds;
}

/** Seconds until done at the current rate, or `undefined` when unknown. */
export function progressEta(state: ProgressState): number | undefined {
  const rate = progressRate(state);
  if (rate === undefined) return state.done >= state.total ? 0 : undefined;
  return Math.max(0, Math.ceil((state.total - state.done) / rate));
}

/** `75` → `1m15s`; `undefined` → `-`. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function percent(state: ProgressState): number {
  return state.total <= 0 ? 100 : Math.floor((state.done / state.total) * 100);
}

function rateText(state: ProgressState): string {
  const rate = progressRate(state);
  return rate === undefined
    ? "- msg/s"
    : `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} msg/s`;
}

/**
 * One bar line, e.g.
 * `INBOX  [#########---------------]  1200/5000  24%  350 msg/s  ETA 11s`.
 */
export function formatBar(
  state: ProgressState,
  width = 24,
  labelWidth = 0,
  stopped = false,
): string {
  const filled = state.total <= 0
    ? width
    : Math.min(width, Math.floor((state.done / state.total) * width));
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const finished = state.done >= state.total;
  const tail = finished
    ? `done in ${formatSeconds((state.updatedAt - state.startedAt) / 1000)}`
    : stopped
    ? "stopped"
    : `ETA ${formatSeconds(progressEta(state))}`;
  return `${state.label.padEnd(labelWidth)}  [${bar}]  ${state.done}/${state.total}  ${
    percent(state)
  }%  ${rateText(state)}  ${tail}`;
}

/** One plain line for logs, e.g. `backfill INBOX: 1200/5000 (24%), 350 msg/s, ETA 11s`. */
export function formatLine(state: ProgressState, stalledSeconds?: number): string {
  const finished = state.done >= state.total;
  const stalled = stalledSeconds === undefined
    ? ""
    : `, no progress for ${formatSeconds(stalledSeconds)}`;
  return `backfill ${state.label}: ${state.done}/${state.total} (${percent(state)}%), ${
    rateText(state)
  }, ${finished ? "done" : `ETA ${formatSeconds(progressEta(state))}`}${stalled}`;
}

/** What the live line of a mailbox shows. */
export interface LiveState {
  readonly label: string;
  /** New messages published since the mailbox caught up. */
  readonly newSinceCaughtUp: number;
  /** When the last of them was published (ms), if any. */
  readonly lastNewAt: number | undefined;
  /** A live round in progress: `done` of `total`. */
  readonly receiving: { done: number; total: number } | undefined;
  /** The round that caught the mailbox up, when it had anything to fetch. */
  readonly backfill: { total: number; seconds: number } | undefined;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
}

/**
 * The line of a caught-up mailbox, e.g.
 * `INBOX  live · 3 new since caught up, last 22:31:05 · backfilled 5000 in 12s`;
 * `stopped` instead of `live` once the run ended.
 */
export function formatLive(state: LiveState, labelWidth = 0, stopped = false): string {
  const parts = [stopped ? "stopped" : "live"];
  if (state.receiving && !stopped) {
    parts.push(`receiving ${state.receiving.done}/${state.receiving.total}`);
  } else if (state.newSinceCaughtUp === 0 || state.lastNewAt === undefined) {
    parts.push(stopped ? "no new mail since caught up" : "waiting for new mail");
  } else {
    parts.push(`${state.newSinceCaughtUp} new since caught up, last ${clock(state.lastNewAt)}`);
  }
  if (state.backfill) {
    parts.push(`backfilled ${state.backfill.total} in ${formatSeconds(state.backfill.seconds)}`);
  }
  return `${state.label.padEnd(labelWidth)}  ${parts.join(" · ")}`;
}
