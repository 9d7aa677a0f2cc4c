import { type CliIo, integerFlag, parseCommandLine } from '@chargeonce/cli';

export interface BenchOptions {
  json: boolean;
  quick: boolean;
  /** A B A B ... rounds per workload; every reported number is the median over rounds. */
  rounds: number;
  distinctMs: number;
  stormMs: number;
  httpMs: number;
  /** Sequential uncontended pays per strategy used to count database round trips. */
  roundTripSamples: number;
}

export const BENCH_CLI = {
  usage: `usage: pnpm bench -- [--json] [--quick] [--rounds N]
  --json       the last line is one JSON object with every figure
  --quick      a second or two per cell (a smoke run: correctness only)
  --rounds N   alternated rounds per workload, 1 to 50 (default 5; 1 with --quick)`,
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
  },
} as const;

/**
 * `pnpm bench -- [--json] [--quick] [--rounds N]`. `--quick` keeps each cell to a second or two
 * (CI smoke run); the default run is long enough for medians over several rounds to settle on a
 * noisy 2-core box.
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
  return {
    json: values.json ?? false,
    quick,
    rounds,
    distinctMs: quick ? 1_000 : 4_000,
    stormMs: quick ? 1_500 : 4_000,
    httpMs: quick ? 1_000 : 4_000,
    roundTripSamples: quick ? 10 : 50,
  };
}
