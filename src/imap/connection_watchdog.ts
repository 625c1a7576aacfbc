/**
 * Declares an IMAP connection dead when the server goes silent while a
 * command waits for its answer. A socket can stall with no error at all
 * (a NAT or proxy that stops forwarding, a server that hangs): TCP then
 * notices nothing for many minutes, and imapflow's own `socketTimeout` is
 * too coarse to tell an idling session from a stuck command. So the session
 * marks each command it runs, the watchdog samples the connection's byte
 * counter, and silence past `commandTimeoutMs` while a command is
 * outstanding calls `onDead` once (the session then closes the socket, which
 * fails the stuck command and lets the follower reconnect).
 *
 * Silence while no command is outstanding (IDLE) is expected; the follower
 * bounds it with a NOOP every IMAP_IDLE_CHECK_SECONDS, which is a command.
 *
 * @module
 */

import { everyInterval } from "../async/shared_interval.ts";
import { InvalidArgumentError } from "../errors.ts";

/** Options of {@link ConnectionWatchdog}. */
export interface ConnectionWatchdogOptions {
  /** Longest silence while a command is outstanding, in ms. Must be > 0. */
  readonly commandTimeoutMs: number;
  /** Bytes received on the connection so far (any monotonic counter of server activity). */
  readonly received: () => number;
  /** Called once, with the command and how long the server had been silent. */
  readonly onDead: (command: string, silentMs: number) => void;
  /** Called at each check when the server sent something since the previous one. */
  readonly onHeard?: () => void;
  /** Sampling interval in ms. Default min(1000, commandTimeoutMs / 4). */
  readonly checkIntervalMs?: number;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** What the watchdog knows about the connection now (for `/ready` and `/status`). */
export interface ConnectionActivity {
  /** When the server last sent anything (ms since the epoch). */
  readonly lastHeardAt: number;
  /** The command waiting for an answer, and since when (ms); `undefined` when none is. */
  readonly outstanding: { readonly command: string; readonly since: number } | undefined;
  /** The watchdog declared the connection dead. */
  readonly dead: boolean;
}

/** Watches one connection; see the module documentation. */
export class ConnectionWatchdog {
  readonly #options: ConnectionWatchdogOptions;
  readonly #now: () => number;
  readonly #commands: string[] = [];
  #busySince = 0;
  #lastHeardAt: number;
  #lastReceived: number;
  #dead = false;
  /** Stops the shared interval's callback; `undefined` while not sampling. */
  #timer: (() => void) | undefined;

  constructor(options: ConnectionWatchdogOptions) {
    if (!(options.commandTimeoutMs > 0)) {
      throw new InvalidArgumentError(
        `Cannot watch the connection: commandTimeoutMs must be > 0, current value is ${options.commandTimeoutMs}`,
      );
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastHeardAt = this.#now();
    this.#lastReceived = options.received();
  }

  /** Starts sampling (idempotent). The timer never keeps the process alive on its own. */
  start(): void {
    if (this.#timer !== undefined) return;
    const interval = this.#options.checkIntervalMs ??
      Math.max(10, Math.min(1_000, Math.floor(this.#options.commandTimeoutMs / 4)));
    // One shared timer for every connection of the process (a fleet watches hundreds).
    this.#timer = everyInterval(interval, () => this.check());
  }

  /** Stops sampling. */
  stop(): void {
    this.#timer?.();
    this.#timer = undefined;
  }

  /** Runs `action` as an outstanding command named `command`. */
  async watch<T>(command: string, action: () => Promise<T>): Promise<T> {
    if (this.#commands.length === 0) this.#busySince = this.#now();
    this.#commands.push(command);
    try {
      return await action();
    } finally {
      this.#commands.splice(this.#commands.indexOf(command), 1);
    }
  }

  /** The current view of the connection. */
  activity(): ConnectionActivity {
    const command = this.#commands[0];
    return {
      lastHeardAt: this.#lastHeardAt,
      outstanding: command === undefined ? undefined : { command, since: this.#busySince },
      dead: this.#dead,
    };
  }

  /** One sample (the timer calls this; public for tests). */
  check(): void {
    const now = this.#now();
    const received = this.#options.received();
    if (received !== this.#lastReceived) {
      this.#lastReceived = received;
      this.#lastHeardAt = now;
      this.#options.onHeard?.();
    }
    const command = this.#commands[0];
    if (this.#dead || command === undefined) return;
    // Silence counts from the later of the last byte and the start of the command.
    const silentMs = now - Math.max(this.#lastHeardAt, this.#busySince);
    if (silentMs < this.#options.commandTimeoutMs) return;
    this.#dead = true;
    this.stop();
    this.#options.onDead(command, silentMs);
  }
}
