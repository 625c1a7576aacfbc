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
import {
  formatBar,
  formatLine,
  formatLive,
  percent,
  progressEta,
  progressRate,
  type ProgressState,
} from "./progress_format.ts";
import { createStatusArea, type StatusArea } from "./status_area.ts";

/** Options of {@link createProgressRenderer}. */
export interface ProgressRendererOptions {
  /** Whether the output is a terminal: bars that redraw in place, or periodic lines. */
  terminal: boolean;
  /** Writes to the terminal (stderr). Used for bars, and for lines when `log` is unset. */
  write: (text: string) => void;
  /**
   * On a terminal: the status area the bars are drawn in. Pass the one the
   * logger prints through, so log lines scroll above the bars instead of
   * being overwritten. Default: a private area on `write`.
   */
  area?: StatusArea;
  /**
   * Off a terminal, receives each progress line instead of `write` (e.g. the
   * structured logger). Fields: `mailbox`, `done`, `total`, `percent`,
   * `rate_per_second` (or null), `eta_seconds` (or null).
   */
  log?: (message: string, fields: Record<string, unknown>) => void;
  /**
   * Whether the run keeps following mailboxes after catching up (`produce`
   * without `--once`). Then, once a mailbox's first sync round ends, small
   * rounds (new mail) update one "live" line instead of drawing a bar (or
   * logging a line) each. Default false.
   */
  live?: boolean;
  /** In live mode, a round of at least this many messages shows as a bar again. Default 100. */
  liveBarThreshold?: number;
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

/** The `progress` and `polled` hooks plus a final flush. */
export interface ProgressRenderer extends Pick<ProducerObserver, "progress" | "polled"> {
  /** Records `done` of `total` for a mailbox and redraws or logs. */
  progress(ref: MailboxRef, done: number, total: number): void;
  /** A sync round ended: after the first successful one, a live run shows the live line. */
  polled(ref: MailboxRef, seconds: number, outcome: "ok" | "error"): void;
  /** Logs a heartbeat line for each unfinished round whose last line is `logIntervalMs` old. */
  tick(): void;
  /**
   * Draws the last state of every line (terminal) and stops redrawing. With
   * `stopped` (Ctrl-C), an unfinished bar says where it stopped instead of an ETA.
   */
  finish(options?: { stopped?: boolean }): void;
}

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

/** One mailbox as the renderer tracks it. */
interface Track {
  label: string;
  /** The current (or last) round drawn as a bar. */
  round: ProgressState | undefined;
  /** Caught up once, in a live run: small rounds update the live line. */
  live: boolean;
  /** A live round big enough for a bar is running. */
  bigRound: boolean;
  newSinceCaughtUp: number;
  lastNewAt: number | undefined;
  receiving: { done: number; total: number } | undefined;
  backfill: { total: number; seconds: number } | undefined;
}

/** Creates the renderer; pass it (or combine it) as the producer's observer. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const now = options.now ?? Date.now;
  const logInterval = options.logIntervalMs ?? 10_000;
  const redrawInterval = options.redrawIntervalMs ?? 100;
  const threshold = options.liveBarThreshold ?? 100;
  const width = options.barWidth ?? 24;
  const label = options.label ?? ((ref: MailboxRef) => ref.mailbox);
  const area = options.area ?? createStatusArea(options.write);
  const tracks = new Map<string, Track>();
  const lastLogAt = new Map<string, number>();
  let lastDrawAt: number | undefined;
  let finished = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  function tick(): void {
    if (finished || options.terminal) return;
    const at = now();
    for (const [key, track] of tracks) {
      const state = track.round;
      if (state === undefined || state.done >= state.total) continue;
      if (at - (lastLogAt.get(key) ?? 0) >= logInterval) logLine(key, state, at);
    }
  }

  function startHeartbeat(): void {
    if (heartbeat !== undefined || options.terminal || options.heartbeatTimer === false) return;
    heartbeat = setInterval(tick, Math.max(100, Math.floor(logInterval / 4)));
    Deno.unrefTimer(heartbeat);
  }

  function lineOf(track: Track, labelWidth: number, stopped: boolean): string | undefined {
    if (track.live && !track.bigRound) return formatLive(track, labelWidth, stopped);
    return track.round && formatBar(track.round, width, labelWidth, stopped);
  }

  function draw(stopped = false): void {
    const all = [...tracks.values()];
    const labelWidth = Math.max(...all.map((t) => t.label.length));
    area.draw(all.flatMap((track) => lineOf(track, labelWidth, stopped) ?? []));
    lastDrawAt = now();
  }

  function trackOf(ref: MailboxRef): [string, Track] {
    const key = JSON.stringify([ref.account, ref.mailbox]);
    let track = tracks.get(key);
    if (!track) {
      track = {
        label: label(ref),
        round: undefined,
        live: false,
        bigRound: false,
        newSinceCaughtUp: 0,
        lastNewAt: undefined,
        receiving: undefined,
        backfill: undefined,
      };
      tracks.set(key, track);
    }
    return [key, track];
  }

  /** A live round of new mail: counted on the live line, no bar, no log line. */
  function liveProgress(track: Track, done: number, total: number, at: number): void {
    if (done >= total) {
      track.newSinceCaughtUp += total;
      track.lastNewAt = at;
      track.receiving = undefined;
    } else {
      track.receiving = { done, total };
    }
    if (options.terminal) draw();
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

  function barProgress(key: string, track: Track, done: number, total: number, at: number): void {
    const previous = track.round;
    // A new round: first report, a different total, or the count went back.
    const newRound = previous === undefined || previous.total !== total ||
      done < previous.done;
    const state: ProgressState = {
      label: track.label,
      done,
      total,
      startedAt: newRound ? at : previous.startedAt,
      startDone: newRound ? done : previous.startDone,
      updatedAt: at,
    };
    track.round = state;
    const complete = done >= total;
    if (track.live && complete && (newRound || previous.done < total)) {
      track.newSinceCaughtUp += total;
      track.lastNewAt = at;
    }
    if (options.terminal) {
      const due = lastDrawAt === undefined || at - lastDrawAt >= redrawInterval;
      if (due || complete || newRound) draw();
      return;
    }
    startHeartbeat();
    const last = lastLogAt.get(key);
    const roundFinished = complete && (newRound || previous.done < total);
    if (last === undefined || newRound || at - last >= logInterval || roundFinished) {
      logLine(key, state);
    }
  }

  return {
    progress(ref: MailboxRef, done: number, total: number): void {
      if (finished) return;
      const [key, track] = trackOf(ref);
      const at = now();
      if (track.live && !track.bigRound && total < threshold) {
        return liveProgress(track, done, total, at);
      }
      if (track.live && !track.bigRound) track.bigRound = true;
      barProgress(key, track, done, total, at);
    },
    polled(ref: MailboxRef, _seconds: number, outcome: "ok" | "error"): void {
      if (finished || !options.live || outcome !== "ok") return;
      const [, track] = trackOf(ref);
      if (!track.live && track.round && track.round.done >= track.round.total) {
        const { total, startedAt, updatedAt } = track.round;
        track.backfill = { total, seconds: (updatedAt - startedAt) / 1000 };
      }
      const changed = !track.live || track.bigRound;
      track.live = true;
      track.bigRound = false;
      if (options.terminal && changed) draw();
    },
    tick,
    finish(finishOptions: { stopped?: boolean } = {}): void {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      if (options.terminal && tracks.size > 0) draw(finishOptions.stopped ?? false);
      area.finish();
    },
  };
}
