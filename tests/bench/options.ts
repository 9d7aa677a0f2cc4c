import { parseArgs } from 'node:util';

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

/**
 * `pnpm bench -- [--json] [--quick]`. pnpm passes the literal `--` through to the script, so it is
 * dropped here rather than rejected. `--quick` keeps each cell to a second or two (CI smoke run);
 * the default run is long enough for medians over several rounds to settle on a noisy 2-core box.
 */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const rounds = values.rounds === undefined ? (quick ? 1 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    throw new Error(`--rounds must be an integer between 1 and 50 (got ${JSON.stringify(values.rounds)})`);
  }
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
