/**
 * An open-loop load driver: operations start at a fixed arrival rate whatever the answers do, as
 * customers arrive at a shop whether or not the till is slow. Operation i is due at
 * t0 + i / rate; its latency runs from that due time, not from when it was actually sent, so a
 * stall in the service (or in this process) shows as the queue it builds instead of silently
 * delaying the next sends. A closed loop (load.ts) measures from the actual send and sends less
 * while the service is slow: it omits exactly the waits a user would see ("coordinated
 * omission", Gil Tene). Latencies go into an HDR histogram (hdr-histogram-js, the pure-JS
 * implementation: no WebAssembly), 3 significant digits, so the tail costs no sorted array.
 */
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { build } from 'hdr-histogram-js';
import { round1 } from './stats';

// A type alias, not an interface: the bench aggregates rounds of it (rounds.ts wants a Record).
export type OpenLoopResult = {
  /** The arrival rate asked for, operations per second. */
  rate: number;
  /** Operations started: rate × duration unless `next` ran out of work. */
  sent: number;
  /** Operations that resolved (their latencies are in the percentiles). */
  completed: number;
  /** Operations that rejected (not in the percentiles). */
  errors: number;
  /** Latency from each operation's scheduled start, ms to 0.1. NaN when none completed. */
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
};

export type LatencyPercentiles = Pick<OpenLoopResult, 'p50_ms' | 'p99_ms' | 'p999_ms' | 'max_ms'>;

/** Recorded in microseconds: 1 µs resolution, 3 significant digits (0.1 % of the value). */
const MICROS_PER_MS = 1_000;

/**
 * A latency histogram in milliseconds over HDR's integer buckets. Values beyond the first range
 * grow it (autoResize): no latency is ever dropped or clamped.
 */
export function latencyHistogram(): {
  record(ms: number): void;
  readonly count: number;
  percentiles(): LatencyPercentiles;
} {
  const h = build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000 * MICROS_PER_MS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  const ms = (micros: number) => round1(micros / MICROS_PER_MS);
  // HDR answers a percentile with the top of its bucket, which can pass the (exact) maximum.
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return {
    record: (latencyMs) => h.recordValue(Math.max(0, Math.round(latencyMs * MICROS_PER_MS))),
    get count() {
      return h.totalCount;
    },
    percentiles: () =>
      h.totalCount === 0
        ? { p50_ms: Number.NaN, p99_ms: Number.NaN, p999_ms: Number.NaN, max_ms: Number.NaN }
        : {
            p50_ms: at(50),
            p99_ms: at(99),
            p999_ms: at(99.9),
            max_ms: ms(h.maxValue),
          },
  };
}

/**
 * Starts `floor(rate × duration)` operations on the schedule t0 + i / rate and waits for all of
 * them to answer. Each wake-up starts every operation already due, and the next wait is computed
 * from the schedule, never from the previous timer, so timer lateness does not accumulate (no
 * drift); an operation started late is charged its lateness. Bounded by the count, and by `next`
 * returning undefined (no more work).
 */
export async function openLoop(options: {
  ratePerS: number;
  durationMs: number;
  /** The operation for the next arrival, or undefined when there is no more work. */
  next: () => (() => Promise<unknown>) | undefined;
  /** Told of every operation that rejected (for diagnostics; it is counted in `errors` anyway). */
  onError?: (err: unknown) => void;
}): Promise<OpenLoopResult> {
  const { ratePerS, durationMs } = options;
  if (!(ratePerS > 0) || !(durationMs > 0)) throw new Error('openLoop: rate and duration must be > 0');
  const total = Math.floor((ratePerS * durationMs) / 1000);
  const intervalMs = 1000 / ratePerS;
  const histogram = latencyHistogram();
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  let sent = 0;
  const start = async (dueAt: number, op: () => Promise<unknown>) => {
    try {
      await op(); // inside the async function: an op that throws synchronously rejects too
      histogram.record(performance.now() - dueAt);
    } catch (err) {
      errors++;
      options.onError?.(err);
    }
  };
  const t0 = performance.now();
  schedule: while (sent < total) {
    const waitMs = t0 + sent * intervalMs - performance.now();
    // Behind schedule: still yield (to I/O too), so answers that arrived are timed when they
    // arrived, not after the catch-up.
    await (waitMs > 0 ? sleep(waitMs) : setImmediate());
    const now = performance.now();
    while (sent < total && t0 + sent * intervalMs <= now) {
      const op = options.next();
      if (!op) break schedule;
      inFlight.push(start(t0 + sent * intervalMs, op));
      sent++;
    }
  }
  await Promise.all(inFlight);
  return { rate: ratePerS, sent, completed: histogram.count, errors, ...histogram.percentiles() };
}
