/**
 * The statistics the benchmark scripts print their figures with.
 *
 * @module
 */

/** The median of `numbers`: the middle value, or the mean of the two middle values. */
export function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
