/**
 * The one check of a command's own whole-number arguments (`--limit`,
 * `--tail`, `--to-uid`, `metrics serve --port`): values of one run, not
 * settings, so they are not rows of the settings table.
 *
 * @module
 */

/** Bounds of {@link wholeNumberProblem}. */
export interface WholeNumberBounds {
  /** Smallest accepted value. */
  readonly min: number;
  /** Largest accepted value; default: no bound. */
  readonly max?: number;
  /** Said after the range, e.g. ` (0 picks a free port)`. */
  readonly note?: string;
}

/** `undefined` when `raw` is a whole number within bounds, else the problem to report. */
export function wholeNumberProblem(
  flag: string,
  raw: string,
  bounds: WholeNumberBounds,
): string | undefined {
  const value = Number(raw);
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (/^\d+$/.test(raw) && value >= bounds.min && value <= max) return undefined;
  const range = bounds.max === undefined ? `>= ${bounds.min}` : `${bounds.min}..${bounds.max}`;
  return `${flag} must be a whole number ${range}${bounds.note ?? ""}: current value is "${raw}"`;
}
