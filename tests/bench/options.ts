import { join } from 'node:path';
import { type CliIo, integerFlag, parseCommandLine, usageError } from '@chargeonce/cli';
import { REPO_ROOT } from '../support/processes';
import { type LatencyShape, STRIPE_LIKE } from './latency';

export interface BenchOptions {
  json: boolean;
  quick: boolean;
  /** A B A B ... rounds per workload; every figure is reported as min / median / max over rounds. */
  rounds: number;
  distinctMs: number;
  stormMs: number;
  httpMs: number;
  /** Sequential uncontended pays per strategy used to count database round trips. */
  roundTripSamples: number;
  /** Per-pay costs: alternated batches per strategy, sequential pays per batch (costs.ts). */
  costs: { batches: number; pays: number };
  /**
   * Where the picture goes (svg.ts): `--svg PATH`, else `docs/bench.svg` on a full run; a quick
   * run writes none unless asked (a smoke run must not overwrite the README's picture).
   */
  svg: string | undefined;
  /** `provider_latency`: clients, cell duration, and the provider's latency distribution. */
  latency: { clients: number; durationMs: number; shape: LatencyShape };
}

export const BENCH_CLI = {
  usage: `usage: pnpm bench -- [--json] [--quick] [--rounds N] [--latency-clients N] [--svg PATH]
  --json               the last line is one JSON object with every figure
  --svg PATH           write the picture there (default docs/bench.svg; a --quick run writes
                       none unless given)
  --quick              a second or two per cell (a smoke run: correctness only); provider_latency
                       then runs 50 clients against a 10x faster provider (median 30 ms)
  --rounds N           alternated rounds per workload, 1 to 50 (default 5; 1 with --quick)
  --latency-clients N  concurrent clients in provider_latency, 1 to 2000 (default 200; 50 with --quick)`,
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'latency-clients': { type: 'string' },
    svg: { type: 'string' },
  },
} as const;

/** The quick run's provider: the Stripe-like shape scaled down 10x, so the smoke run stays short. */
const QUICK_SHAPE: LatencyShape = {
  medianMs: STRIPE_LIKE.medianMs / 10,
  p99Ms: STRIPE_LIKE.p99Ms / 10,
  capMs: STRIPE_LIKE.capMs / 10,
};

/**
 * `pnpm bench -- [--json] [--quick] [--rounds N] [--latency-clients N]`. `--quick` keeps each cell
 * to a second or two (CI smoke run); the default run is long enough for medians over several rounds
 * to settle on a noisy 2-core box.
 */
export function parseOptions(io?: CliIo): BenchOptions {
  const values = parseCommandLine(BENCH_CLI, io);
  const quick = values.quick ?? false;
  const rounds =
    values.rounds === undefined
      ? quick
        ? 1
        : 5
      : integerFlag(BENCH_CLI, 'rounds', values.rounds, { min: 1, max: 50 }, io);
  const raw = values['latency-clients'];
  const clients =
    raw === undefined
      ? quick
        ? 50
        : 200
      : integerFlag(BENCH_CLI, 'latency-clients', raw, { min: 1, max: 2000 }, io);
  if (values.svg !== undefined && !values.svg.endsWith('.svg'))
    usageError(BENCH_CLI, `--svg must name an .svg file, not ${JSON.stringify(values.svg)}`, io);
  return {
    json: values.json ?? false,
    svg: values.svg ?? (quick ? undefined : join(REPO_ROOT, 'docs/bench.svg')),
    quick,
    rounds,
    distinctMs: quick ? 1_000 : 4_000,
    stormMs: quick ? 1_500 : 4_000,
    httpMs: quick ? 1_000 : 4_000,
    roundTripSamples: quick ? 10 : 50,
    costs: { batches: quick ? 1 : 7, pays: quick ? 50 : 300 },
    latency: { clients, durationMs: quick ? 1_000 : 8_000, shape: quick ? QUICK_SHAPE : STRIPE_LIKE },
  };
}
