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

/** Median of each numeric field over rounds: the rounds of one cell were interleaved with the others'. */
export function medianOf<T extends Record<string, number>>(rounds: readonly T[]): T {
  const first = rounds[0];
  if (!first) throw new Error('medianOf: no rounds');
  const out: Record<string, number> = {};
  for (const key of Object.keys(first)) out[key] = median(rounds.map((r) => r[key]!));
  return out as T;
}

/** Rounded for reporting: throughput to whole pays/s, latency to 0.1 ms. */
export const round1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : n);
