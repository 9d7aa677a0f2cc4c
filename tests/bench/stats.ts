/** Nearest-rank percentile of an ascending-sorted array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export interface LatencySummary {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function summarize(latenciesMs: number[], elapsedMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    perSecond: elapsedMs > 0 ? (sorted.length * 1000) / elapsedMs : 0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/**
 * A figure over its rounds. `median` is what a single number used to be (the rounds of one cell
 * were interleaved with the others'); `min` and `max` show how far the machine moved it.
 */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  return { min: Math.min(...finite), median: median(finite), max: Math.max(...finite) };
}

/** Rounded for reporting: throughput to whole pays/s, latency to 0.1 ms. */
export const round1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : n);
