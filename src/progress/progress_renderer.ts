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
export interface ProgressRenderer
  extends Pick<ProducerObserver, "progress" | "polled" | "backfillProgress" | "backfillEnded"> {
  /** Records `done` of `total` for a mailbox and redraws or logs. */
  progress(ref: MailboxRef, done: number, total: number): void;
  /** The history lane's progress: a bar of its own above the live line until it is done. */
  backfillProgress(ref: MailboxRef, done: number, total: number): void;
  /** The history lane ended short of its total: its bar goes (a done one shows as backfilled). */
  backfillEnded(ref: MailboxRef, outcome: "done" | "dropped"): void;
  /** A sync round ended: after the first successful one, a live run shows the live line. */
  polled(ref: MailboxRef, seconds: number, outcome: "ok" | "error"): void;
  /** Logs a heartbeat line for each unfinished round whose last line is `logIntervalMs` old. */
  tick(): void;
  /** Draws every line's last state (terminal) and stops; `stopped` (Ctrl-C): bars say where. */
  finish(options?: { stopped?: boolean }): void;
}

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
  /** The history lane's unfinished backfill, drawn as a bar beside the live line. */
  history: ProgressState | undefined;
}

/** Creates the renderer; pass it (or combine it) as the producer's observer. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  return new Renderer(options);
}

/** The renderer's state: one track per mailbox, and when it last drew or logged. */
class Renderer implements ProgressRenderer {
  readonly #o: ProgressRendererOptions;
  readonly #now: () => number;
  readonly #logInterval: number;
  readonly #redrawInterval: number;
  readonly #threshold: number;
  readonly #width: number;
  readonly #label: (ref: MailboxRef) => string;
  readonly #area: StatusArea;
  readonly #tracks = new Map<string, Track>();
  readonly #lastLogAt = new Map<string, number>();
  #lastDrawAt: number | undefined;
  #finished = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressRendererOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#logInterval = options.logIntervalMs ?? 10_000;
    this.#redrawInterval = options.redrawIntervalMs ?? 100;
    this.#threshold = options.liveBarThreshold ?? 100;
    this.#width = options.barWidth ?? 24;
    this.#label = options.label ?? ((ref: MailboxRef) => ref.mailbox);
    this.#area = options.area ?? createStatusArea(options.write);
  }

  progress(ref: MailboxRef, done: number, total: number): void {
    if (this.#finished) return;
    const [key, track] = this.#trackOf(ref);
    const at = this.#now();
    if (track.live && !track.bigRound && total < this.#threshold) {
      return this.#liveProgress(track, done, total, at);
    }
    if (track.live && !track.bigRound) track.bigRound = true;
    this.#barProgress(key, track, done, total, at);
  }

  backfillProgress(ref: MailboxRef, done: number, total: number): void {
    if (this.#finished) return;
    const [key, track] = this.#trackOf(ref);
    const at = this.#now();
    const previous = track.history;
    const state = nextState(track.label, previous, done, total, at);
    const complete = done >= total;
    track.history = complete ? undefined : state;
    if (complete) track.backfill = { total, seconds: (at - state.startedAt) / 1000 };
    this.#show(`${key}:history`, state, previous, at);
  }

  backfillEnded(ref: MailboxRef, outcome: "done" | "dropped"): void {
    if (this.#finished) return;
    const [, track] = this.#trackOf(ref);
    const last = track.history;
    if (last === undefined) return;
    track.history = undefined;
    const seconds = (this.#now() - last.startedAt) / 1000;
    if (outcome === "done") track.backfill = { total: last.total, seconds };
    if (this.#o.terminal) this.#draw();
  }

  polled(ref: MailboxRef, _seconds: number, outcome: "ok" | "error"): void {
    if (this.#finished || !this.#o.live || outcome !== "ok") return;
    const [, track] = this.#trackOf(ref);
    if (!track.live && track.round && track.round.done >= track.round.total) {
      const { total, startedAt, updatedAt } = track.round;
      track.backfill = { total, seconds: (updatedAt - startedAt) / 1000 };
    }
    const changed = !track.live || track.bigRound;
    track.live = true;
    track.bigRound = false;
    if (this.#o.terminal && changed) this.#draw();
  }

  finish(finishOptions: { stopped?: boolean } = {}): void {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#heartbeat);
    if (this.#o.terminal && this.#tracks.size > 0) this.#draw(finishOptions.stopped ?? false);
    this.#area.finish();
  }

  tick(): void {
    if (this.#finished || this.#o.terminal) return;
    const at = this.#now();
    for (const [key, track] of this.#tracks) {
      const rounds: [string, ProgressState | undefined][] = [
        [key, track.round],
        [`${key}:history`, track.history],
      ];
      for (const [id, state] of rounds) {
        if (state === undefined || state.done >= state.total) continue;
        if (at - (this.#lastLogAt.get(id) ?? 0) >= this.#logInterval) this.#logLine(id, state, at);
      }
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined || this.#o.terminal || this.#o.heartbeatTimer === false) {
      return;
    }
    this.#heartbeat = setInterval(
      () => this.tick(),
      Math.max(100, Math.floor(this.#logInterval / 4)),
    );
    Deno.unrefTimer(this.#heartbeat);
  }

  #linesOf(track: Track, labelWidth: number, stopped: boolean): string[] {
    const history = track.history && formatBar(track.history, this.#width, labelWidth, stopped);
    const main = track.live && !track.bigRound
      ? formatLive(track, labelWidth, stopped)
      : track.round && formatBar(track.round, this.#width, labelWidth, stopped);
    return [history, main].filter((line): line is string => line !== undefined);
  }

  #draw(stopped = false): void {
    const all = [...this.#tracks.values()];
    const labelWidth = Math.max(...all.map((t) => t.label.length));
    this.#area.draw(all.flatMap((track) => this.#linesOf(track, labelWidth, stopped)));
    this.#lastDrawAt = this.#now();
  }

  #trackOf(ref: MailboxRef): [string, Track] {
    const key = JSON.stringify([ref.account, ref.mailbox]);
    let track = this.#tracks.get(key);
    if (!track) {
      track = {
        label: this.#label(ref),
        round: undefined,
        live: false,
        bigRound: false,
        newSinceCaughtUp: 0,
        lastNewAt: undefined,
        receiving: undefined,
        backfill: undefined,
        history: undefined,
      };
      this.#tracks.set(key, track);
    }
    return [key, track];
  }

  /** A live round of new mail: counted on the live line, no bar, no log line. */
  #liveProgress(track: Track, done: number, total: number, at: number): void {
    if (done >= total) {
      track.newSinceCaughtUp += total;
      track.lastNewAt = at;
      track.receiving = undefined;
    } else {
      track.receiving = { done, total };
    }
    if (this.#o.terminal) this.#draw();
  }

  #logLine(key: string, state: ProgressState, at = state.updatedAt): void {
    this.#lastLogAt.set(key, at);
    const stalledSeconds = at > state.updatedAt ? (at - state.updatedAt) / 1000 : undefined;
    const message = formatLine(state, stalledSeconds);
    if (this.#o.log) {
      const rate = progressRate(state);
      this.#o.log(message, {
        mailbox: state.label,
        done: state.done,
        total: state.total,
        percent: percent(state),
        rate_per_second: rate === undefined ? null : Math.round(rate * 10) / 10,
        eta_seconds: progressEta(state) ?? null,
        ...(stalledSeconds === undefined ? {} : { stalled_seconds: Math.round(stalledSeconds) }),
      });
    } else {
      this.#o.write(message + "\n");
    }
  }

  #barProgress(key: string, track: Track, done: number, total: number, at: number): void {
    const previous = track.round;
    const newRound = isNewRound(previous, done, total);
    track.round = nextState(track.label, previous, done, total, at);
    if (track.live && done >= total && (newRound || previous!.done < total)) {
      track.newSinceCaughtUp += total;
      track.lastNewAt = at;
    }
    this.#show(key, track.round, previous, at);
  }

  /** Redraws (terminal) or logs (otherwise) after `state` replaced `previous`. */
  #show(key: string, state: ProgressState, previous: ProgressState | undefined, at: number): void {
    const newRound = isNewRound(previous, state.done, state.total);
    const complete = state.done >= state.total;
    if (this.#o.terminal) {
      const due = this.#lastDrawAt === undefined || at - this.#lastDrawAt >= this.#redrawInterval;
      if (due || complete || newRound) this.#draw();
      return;
    }
    this.#startHeartbeat();
    const last = this.#lastLogAt.get(key);
    const roundFinished = complete && (newRound || previous!.done < state.total);
    if (last === undefined || newRound || at - last >= this.#logInterval || roundFinished) {
      this.#logLine(key, state);
    }
  }
}

/** A new round: first report, a different total, or the count went back. */
function isNewRound(previous: ProgressState | undefined, done: number, total: number): boolean {
  return previous === undefined || previous.total !== total || done < previous.done;
}

/** The round state after a report of `done` of `total` at `at`. */
function nextState(
  label: string,
  previous: ProgressState | undefined,
  done: number,
  total: number,
  at: number,
): ProgressState {
  const fresh = isNewRound(previous, done, total);
  return {
    label,
    done,
    total,
    startedAt: fresh ? at : previous!.startedAt,
    startDone: fresh ? done : previous!.startDone,
    updatedAt: at,
  };
}
