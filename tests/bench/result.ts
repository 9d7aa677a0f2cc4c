import type { CostedCell, CostRound } from './costs';
import type { OpenLoopTarget } from './http';
import type { Spreads } from './rounds';
import type { Spread } from './stats';
import type { StrategyName } from './strategies';
import type { TargetCheck } from './targets';

/**
 * The JSON of issue 5, with issue 15's spread: every measured figure (pays/s, p50, p99) is a
 * `{ min, median, max }` over its alternated rounds, where it used to be the median alone (that
 * median is now `.median`, same meaning). `duplicates` is still a total over rounds and
 * `db_round_trips_per_pay` still one count over sequential pays: neither is a spread.
 */
export interface LatencyFigures {
  pays_per_s: Spread;
  p50_ms: Spread;
  p99_ms: Spread;
  duplicates: number;
}
/** An HTTP cell also says what the serving process(es) spent on CPU per pay (all threads, µs). */
export type HttpFigures = LatencyFigures & { server_cpu_us_per_pay: Spread };

/**
 * An open-loop cell: percentiles from the scheduled start, each a spread over rounds; `duplicates`
 * a total over rounds, as everywhere (0 for the floor, which calls no provider).
 */
export interface OpenLoopFigures {
  p50_ms: Spread;
  p99_ms: Spread;
  p999_ms: Spread;
  max_ms: Spread;
  duplicates: number;
}
export type DistinctFigures = LatencyFigures & { db_round_trips_per_pay: number };

/** The cells of `provider_latency`: the strategies, and the same clients calling the provider alone. */
export const PROVIDER_LATENCY_CELLS = ['optimistic', 'pessimistic', 'naive', 'provider_only'] as const;
export type ProviderLatencyCell = (typeof PROVIDER_LATENCY_CELLS)[number];

export interface BenchJson {
  floor: { pays_per_s: Spread };
  distinct: Record<StrategyName, DistinctFigures>;
  hot_storm: Record<
    StrategyName,
    { background_pays_per_s: Spread; background_p99_ms: Spread; storm_p99_ms: Spread; duplicates: number }
  >;
  /**
   * The product over HTTP on 1 and 3 server processes (production build), and issue 15's HTTP
   * floor: the same two statements behind a bare fastify route, same 32 closed-loop clients.
   * `open_loop`: one process and the floor at a fixed arrival rate (half the product's closed-loop
   * median), latency from each pay's scheduled start, HDR histogram.
   */
  http: Record<'instances_1' | 'instances_3' | 'floor', HttpFigures> & {
    open_loop: { rate_per_s: number } & Record<OpenLoopTarget, OpenLoopFigures>;
  };
  /**
   * Issue 15: what one uncontended pay costs (costs.ts): CPU of this process and of the PostgreSQL
   * backend (µs), WAL bytes, rows written and round trips, each a spread over alternated batches.
   */
  costs: Record<CostedCell, Spreads<CostRound>>;
  /** The product through PgBouncer in transaction mode (`DATABASE_PREPARE=false`); null without PgBouncer. */
  pooled: { optimistic: DistinctFigures } | null;
  /**
   * Issue 15: distinct orders, a log-normal provider latency (median 300 ms, p99 1.8 s), 200
   * clients, pool 10 for every strategy; `provider_only` is the ceiling with no database at all.
   */
  provider_latency: Record<ProviderLatencyCell, LatencyFigures>;
  /** Every target with its verdict: met, missed, or inconclusive (its spread crosses the threshold). */
  targets: TargetCheck[];
}

/** What the table shows besides the JSON: diagnostics that explain the numbers. */
export interface BenchExtras {
  rounds: number;
  quick: boolean;
  floor: { p50_ms: Spread; p99_ms: Spread; db_round_trips_per_pay: number };
  /** `payOrder` with a zero-latency provider stub: the product's own cost without the Stripe SDK. */
  optimisticStub: { pays_per_s: Spread; p50_ms: Spread; p99_ms: Spread };
  /** The `stripe` SDK call to the emulator alone, no database: the ceiling for any strategy using it. */
  providerOnly: { pays_per_s: Spread; p50_ms: Spread; p99_ms: Spread };
  stormWaves: Record<StrategyName, Spread>;
  /** provider_latency's clients and provider latency distribution, as run. */
  latency: { clients: number; medianMs: number; p99Ms: number };
  /** Pays that threw, per cell, over all rounds (should be 0 everywhere). */
  errors: Record<string, number>;
}
