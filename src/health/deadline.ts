/**
 * A bound on how long an endpoint waits: a scrape or a readiness probe must
 * answer even when Redis or IMAP hangs.
 *
 * @module
 */

/** Settles like `promise`, or rejects after `ms` with "`what` did not finish within `ms` ms". */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
