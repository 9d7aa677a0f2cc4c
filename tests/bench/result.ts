import type { StrategyName } from './strategies';

/** The JSON the issue specifies (every number a median over rounds; `duplicates` a total over rounds). */
export interface BenchJson {
  floor: { pays_per_s: number };
  distinct: Record<
    StrategyName,
    { pays_per_s: number; p50_ms: number; p99_ms: number; duplicates: number; db_round_trips_per_pay: number }
  >;
  hot_storm: Record<
    StrategyName,
    { background_pays_per_s: number; background_p99_ms: number; storm_p99_ms: number; duplicates: number }
  >;
  http: Record<
    'instances_1' | 'instances_3',
    { pays_per_s: number; p50_ms: number; p99_ms: number; duplicates: number }
  >;
  /** The product through PgBouncer in transaction mode (`DATABASE_PREPARE=false`); null without PgBouncer. */
  pooled: {
    optimistic: {
      pays_per_s: number;
      p50_ms: number;
      p99_ms: number;
      duplicates: number;
      db_round_trips_per_pay: number;
    };
  } | null;
}

/** What the table shows besides the JSON: diagnostics that explain the numbers. */
export interface BenchExtras {
  rounds: number;
  quick: boolean;
  floor: { p50_ms: number; p99_ms: number; db_round_trips_per_pay: number };
  /** `payOrder` with a zero-latency provider stub: the product's own cost without the Stripe SDK. */
  optimisticStub: { pays_per_s: number; p50_ms: number; p99_ms: number };
  /** The `stripe` SDK call to the emulator alone, no database: the ceiling for any strategy using it. */
  providerOnly: { pays_per_s: number; p50_ms: number; p99_ms: number };
  stormWaves: Record<StrategyName, number>;
  /** Pays that threw, per cell, over all rounds (should be 0 everywhere). */
  errors: Record<string, number>;
}
