/**
 * A bound on how long anything waits: a scrape, a readiness probe, a doctor
 * check or a worker's shutdown must answer even when Redis or IMAP hangs.
 *
 * @module
 */

import { IngestError } from "../errors.ts";

/** Settles like `promise`, or rejects after `ms` with "`what` did not finish within `ms` ms". */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new IngestError("TIMED_OUT", `${what} did not finish within ${ms} ms`, true)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
