/**
 * Backfill progress for people: the producer's `progress` hook rendered as
 * one bar per mailbox (done of total, rate, ETA) on a terminal, or as a
 * plain line at most every few seconds when stderr is not a terminal (logs,
 * systemd journal). Pure apart from the `write` and `log` callbacks, with an
 * injectable clock.
 *
 * @example
 * ```ts
 * const progress = createProgressRenderer({
 *   terminal: Deno.stderr.isTerminal(),
 *   write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
 * });
 * const observer = combineObservers(metricsObserver, progress);
 * // ... run the producer with `observer` ...
 * progress.finish();
 * ```
 *
 * @module
 */

import type { ProducerObserver } from "../observe/events.ts";
import type { MailboxRef } from "../redis/keys.ts";

/** Options of {@link createProgressRenderer}. */
export interface ProgressRendererOptions {
  /** Whether the output is a terminal: bars that redraw in place, or periodic lines. */
  terminal: boolean;
  /** Writes to the terminal (stderr). Used for bars, and for lines when `log` is unset. */
  write: (text: string) => void;
  /**
   * Off a terminal, receives each progress line instead of `write` (e.g. the
   * structured logger). Fields: `mailbox`, `done`, `total`, `percent`,
   * `rate_per_second` (or null), `eta_seconds` (or null).
   */
  log?: (message: string, fields: Record<string, unknown>) => void;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number;
  /**
   * Off a terminal: one line per mailbox this often while its round is not
   * done, also when nothing moved (a heartbeat: a stalled sync is visible in
   * the log), plus one at the end. Default 10 s.
   */
  logIntervalMs?: number;
  /**
   * Off a terminal: check for due heartbeat lines on a timer (unref'd, stopped
   * by `finish()`). Default true; tests turn it off and call `tick()`.
   */
  heartbeatTimer?: boolean;
  /** On a terminal: redraw at most this often (a finished bar is drawn at once). Default 100 ms. */
  redrawIntervalMs?: number;
  /** Width of the bar in characters. Default 24. */
  barWidth?: number;
  /** The name shown for a mailbox. Default: the mailbox path (never the account address). */
  label?: (ref: MailboxRef) => string;
}

/** The `progress` hook plus a final flush. */
export interface ProgressRenderer extends Pick<ProducerObserver, "progress"> {
  /** Records `done` of `total` for a mailbox and redraws or logs. */
  progress(ref: MailboxRef, done: number, total: number): void;
  /** Logs a heartbeat line for each unfinished round whose last line is `logIntervalMs` old. */
  tick(): void;
  /** Draws the last state of every bar (terminal) and stops redrawing and heartbeats. */
  finish(): void;
}

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

function percent(state: ProgressState): number {
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
export function formatBar(state: ProgressState, width = 24, labelWidth = 0): string {
  const filled = state.total <= 0
    ? width
    : Math.min(width, Math.floor((state.done / state.total) * width));
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const finished = state.done >= state.total;
  const tail = finished
    ? `done in ${formatSeconds((state.updatedAt - state.startedAt) / 1000)}`
    : `ETA ${formatSeconds(progressEta(state))}`;
  return `${state.label.padEnd(labelWidth)}  [${bar}]  ${state.done}/${state.total}  ${
    percent(state)
  }%  ${rateText(state)}  ${tail}`;
}

/**
 * One plain line for logs, e.g. `backfill INBOX: 1200/5000 (24%), 350 msg/s, ETA 11s`;
 * with `stalledSeconds`, `..., no progress for 20s` is added.
 */
export function formatLine(state: ProgressState, stalledSeconds?: number): string {
  const finished = state.done >= state.total;
  const stalled = stalledSeconds === undefined
    ? ""
    : `, no progress for ${formatSeconds(stalledSeconds)}`;
  return `backfill ${state.label}: ${state.done}/${state.total} (${percent(state)}%), ${
    rateText(state)
  }, ${finished ? "done" : `ETA ${formatSeconds(progressEta(state))}`}${stalled}`;
}

/** Creates the renderer; pass it (or combine it) as the producer's observer. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const now = options.now ?? Date.now;
  const logInterval = options.logIntervalMs ?? 10_000;
  const redrawInterval = options.redrawIntervalMs ?? 100;
  const width = options.barWidth ?? 24;
  const label = options.label ?? ((ref: MailboxRef) => ref.mailbox);
  const states = new Map<string, ProgressState>();
  const lastLogAt = new Map<string, number>();
  let drawnLines = 0;
  let lastDrawAt: number | undefined;
  let finished = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  function tick(): void {
    if (finished || options.terminal) return;
    const at = now();
    for (const [key, state] of states) {
      if (state.done >= state.total) continue;
      if (at - (lastLogAt.get(key) ?? 0) >= logInterval) logLine(key, state, at);
    }
  }

  function startHeartbeat(): void {
    if (heartbeat !== undefined || options.terminal || options.heartbeatTimer === false) return;
    heartbeat = setInterval(tick, Math.max(100, Math.floor(logInterval / 4)));
    Deno.unrefTimer(heartbeat);
  }

  function draw(): void {
    const all = [...states.values()];
    const labelWidth = Math.max(...all.map((s) => s.label.length));
    // Move up over the previous drawing, then rewrite every line in place.
    let text = drawnLines > 0 ? `\x1b[${drawnLines}A` : "";
    for (const state of all) text += `\r\x1b[2K${formatBar(state, width, labelWidth)}\n`;
    options.write(text);
    drawnLines = all.length;
    lastDrawAt = now();
  }

  function logLine(key: string, state: ProgressState, at = state.updatedAt): void {
    lastLogAt.set(key, at);
    const stalledSeconds = at > state.updatedAt ? (at - state.updatedAt) / 1000 : undefined;
    const message = formatLine(state, stalledSeconds);
    if (options.log) {
      const rate = progressRate(state);
      options.log(message, {
        mailbox: state.label,
        done: state.done,
        total: state.total,
        percent: percent(state),
        rate_per_second: rate === undefined ? null : Math.round(rate * 10) / 10,
        eta_seconds: progressEta(state) ?? null,
        ...(stalledSeconds === undefined ? {} : { stalled_seconds: Math.round(stalledSeconds) }),
      });
    } else {
      options.write(message + "\n");
    }
  }

  return {
    progress(ref: MailboxRef, done: number, total: number): void {
      if (finished) return;
      const key = JSON.stringify([ref.account, ref.mailbox]);
      const at = now();
      const previous = states.get(key);
      // A new round: first report, a different total, or the count went back.
      const newRound = previous === undefined || previous.total !== total ||
        done < previous.done;
      const state: ProgressState = {
        label: label(ref),
        done,
        total,
        startedAt: newRound ? at : previous.startedAt,
        startDone: newRound ? done : previous.startDone,
        updatedAt: at,
      };
      states.set(key, state);
      const complete = done >= total;
      if (options.terminal) {
        const due = lastDrawAt === undefined || at - lastDrawAt >= redrawInterval;
        if (due || complete || previous === undefined) draw();
        return;
      }
      startHeartbeat();
      const last = lastLogAt.get(key);
      const roundFinished = complete && (newRound || previous.done < total);
      if (last === undefined || newRound || at - last >= logInterval || roundFinished) {
        logLine(key, state);
      }
    },
    tick,
    finish(): void {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      if (options.terminal && states.size > 0) draw();
    },
  };
}
