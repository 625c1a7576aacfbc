/**
 * The shape every fault-injection scenario shares: what it is called, how to
 * run it, and the counts it ends with. `scripts/faults.ts` runs scenarios and
 * prints their reports; `tests/faults_test.ts` runs short versions of them and
 * asserts on the same reports.
 *
 * @module
 */

/** Options every scenario takes. */
export interface ScenarioOptions {
  /** Short version for the test suite (fewer messages, shorter faults). */
  readonly quick: boolean;
  /** Seed for every random choice the scenario makes. */
  readonly seed: number;
  /** Progress lines (to stderr in the script, nowhere in tests). */
  readonly log: (line: string) => void;
}

/** What a scenario saw when it ended. */
export interface FaultReport {
  /** The scenario's name, e.g. `imap_drop`. */
  readonly scenario: string;
  /** Whether every expectation of the scenario held. */
  readonly ok: boolean;
  /** Messages put in the mailbox (or entries put in the stream, for worker scenarios). */
  readonly mailbox_messages: number;
  /** Distinct messages (idempotency keys) in the stream at the end. */
  readonly distinct_entries: number;
  /** Stream entries beyond the first per idempotency key (must be 0). */
  readonly duplicates: number;
  /** Sink calls: total, distinct keys, and how many keys were delivered more than once. */
  readonly sink: {
    readonly deliveries: number;
    readonly distinct_keys: number;
    readonly keys_delivered_more_than_once: number;
    /** Successful sink runs per key beyond the first (must be 0 unless the scenario says why). */
    readonly repeated_successes: number;
  };
  /** Entries in the dead-letter queue by reason. */
  readonly dlq: { readonly total: number; readonly reasons: Readonly<Record<string, number>> };
  /** Seconds from the end of the fault until the pipeline was whole again (`null`: not measured). */
  readonly recovery_seconds: number | null;
  /** Wall time of the scenario in seconds. */
  readonly seconds: number;
  /** What did not hold, one line each (empty when `ok`). */
  readonly problems: readonly string[];
  /** Anything else worth printing (exit codes, timings), scenario-specific. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** One fault-injection scenario. */
export interface FaultScenario {
  /** Name used on the command line (`scripts/faults.ts --only NAME`). */
  readonly name: string;
  /** One line: the fault and what must hold. */
  readonly summary: string;
  /** Runs it on servers it starts and stops itself. */
  run(options: ScenarioOptions): Promise<FaultReport>;
}

/** A report with nothing delivered to a sink and nothing dead-lettered (producer-only scenarios). */
export const NO_SINK: FaultReport["sink"] = {
  deliveries: 0,
  distinct_keys: 0,
  keys_delivered_more_than_once: 0,
  repeated_successes: 0,
};
