/**
 * `pnpm bench -- [--json] [--quick] [--rounds N]`
 *
 * Measures, in one run on one machine, the product's optimistic `payOrder` against the classic
 * `SELECT ... FOR UPDATE` fix and naive check-then-act (both kept here, never in the product), with
 * the database's own floor for the same SQL, then the product end to end over HTTP. Cells of one
 * workload are interleaved round by round (rotating who goes first) and reported as medians, so
 * drift on a shared machine hits every strategy alike. Starts its own PostgreSQL, emulator and
 * server processes on loopback, and stops all of them, also on SIGINT/SIGTERM.
 * With `--json` the last stdout line is the result object of issue 5; progress goes to stderr.
 */
import { cleanupAll, exitOnSignals } from './cleanup';
import { type BenchEnv, startBenchEnv } from './environment';
import { HTTP_INSTANCES, type HttpRound, startHttpBench } from './http';
import { parseOptions } from './options';
import { formatReport } from './report';
import type { BenchExtras, BenchJson } from './result';
import { medianOf, round1 } from './stats';
import {
  floor,
  optimistic,
  type PayFn,
  providerOnly,
  STRATEGIES,
  type StrategyName,
  strategy,
  stubGateway,
} from './strategies';
import { checkTargets } from './targets';
import { type DistinctRound, distinct, hotStorm, roundTripsPerPay, type StormRound } from './workloads';

const options = parseOptions();
const log = (line: string) => console.error(`bench: ${line}`);

/** Rotates the order each round (A B C, B C A, ...) so no cell always runs first or last. */
function rotated<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Medians over rounds, except that `duplicates` and `errors` are totals: one is one too many. */
function aggregate<T extends Record<string, number>>(rounds: T[]): T {
  const med = medianOf(rounds) as Record<string, number>;
  for (const key of Object.keys(med)) {
    med[key] =
      key === 'duplicates' || key === 'errors' ? rounds.reduce((s, r) => s + r[key]!, 0) : round1(med[key]!);
  }
  return med as T;
}

type DistinctCell = StrategyName | 'floor' | 'optimistic_stub' | 'provider_only' | 'optimistic_pooled';

async function inProcess(env: BenchEnv) {
  const pays: Record<DistinctCell, PayFn> = {
    floor: floor(env),
    optimistic: strategy(env, 'optimistic'),
    pessimistic: strategy(env, 'pessimistic'),
    naive: strategy(env, 'naive'),
    optimistic_stub: optimistic(env, stubGateway(env.gateway)),
    provider_only: providerOnly(env),
    ...(env.pooled ? { optimistic_pooled: optimistic({ ...env, db: env.pooled }) } : {}),
  } as Record<DistinctCell, PayFn>;
  const cells = Object.keys(pays) as DistinctCell[];

  log('counting DB round trips per uncontended pay');
  const roundTrips = {} as Record<DistinctCell, number>;
  for (const cell of cells)
    roundTrips[cell] = await roundTripsPerPay(env, pays[cell], options.roundTripSamples);

  log('warming up (JIT, pools, prepared statements)');
  for (const cell of cells) await distinct(env, pays[cell], 300);

  const distinctRounds = Object.fromEntries(cells.map((c) => [c, [] as DistinctRound[]])) as Record<
    DistinctCell,
    DistinctRound[]
  >;
  for (let round = 0; round < options.rounds; round++) {
    for (const cell of rotated(cells, round)) {
      const result = await distinct(env, pays[cell], options.distinctMs);
      distinctRounds[cell].push(result);
      log(`distinct round ${round + 1}/${options.rounds} ${cell}: ${Math.round(result.pays_per_s)} pays/s`);
    }
  }

  const stormRounds = Object.fromEntries(STRATEGIES.map((s) => [s, [] as StormRound[]])) as Record<
    StrategyName,
    StormRound[]
  >;
  for (let round = 0; round < options.rounds; round++) {
    for (const s of rotated(STRATEGIES, round)) {
      const result = await hotStorm(env, pays[s], options.stormMs);
      stormRounds[s].push(result);
      log(
        `hot_storm round ${round + 1}/${options.rounds} ${s}: background ${Math.round(result.background_pays_per_s)} pays/s, ` +
          `${result.waves} waves, ${result.duplicates} duplicates`,
      );
    }
  }
  return {
    roundTrips,
    distinct: Object.fromEntries(cells.map((c) => [c, aggregate(distinctRounds[c])])) as Record<
      DistinctCell,
      DistinctRound
    >,
    storm: Object.fromEntries(STRATEGIES.map((s) => [s, aggregate(stormRounds[s])])) as Record<
      StrategyName,
      StormRound
    >,
  };
}

async function overHttp() {
  log('starting 3 server processes for the http workload');
  const http = await startHttpBench();
  try {
    await http.run(1, 500); // warm-up: JIT and connections in the servers, not measured
    await http.run(3, 500);
    const rounds: Record<1 | 3, HttpRound[]> = { 1: [], 3: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const instances of rotated(HTTP_INSTANCES, round)) {
        const result = await http.run(instances, options.httpMs);
        rounds[instances].push(result);
        log(
          `http round ${round + 1}/${options.rounds} instances=${instances}: ${Math.round(result.pays_per_s)} pays/s`,
        );
      }
    }
    return { 1: aggregate(rounds[1]), 3: aggregate(rounds[3]) };
  } finally {
    await http.stop();
  }
}

async function main(): Promise<number> {
  exitOnSignals();
  log('starting PostgreSQL (embedded, throwaway) and the Stripe emulator');
  const env = await startBenchEnv();
  const local = await inProcess(env);
  // The in-process cells are done: free their PostgreSQL before the http stack starts its own.
  await cleanupAll();
  const http = await overHttp();

  const { roundTrips, distinct: d, storm } = local;
  const distinctOf = (s: StrategyName | 'optimistic_pooled') => ({
    pays_per_s: d[s].pays_per_s,
    p50_ms: d[s].p50_ms,
    p99_ms: d[s].p99_ms,
    duplicates: d[s].duplicates,
    db_round_trips_per_pay: roundTrips[s],
  });
  const stormOf = (s: StrategyName) => ({
    background_pays_per_s: storm[s].background_pays_per_s,
    background_p99_ms: storm[s].background_p99_ms,
    storm_p99_ms: storm[s].storm_p99_ms,
    duplicates: storm[s].duplicates,
  });
  const httpOf = (r: HttpRound) => ({
    pays_per_s: r.pays_per_s,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    duplicates: r.duplicates,
  });
  const json: BenchJson = {
    floor: { pays_per_s: d.floor.pays_per_s },
    distinct: {
      optimistic: distinctOf('optimistic'),
      pessimistic: distinctOf('pessimistic'),
      naive: distinctOf('naive'),
    },
    hot_storm: {
      optimistic: stormOf('optimistic'),
      pessimistic: stormOf('pessimistic'),
      naive: stormOf('naive'),
    },
    http: { instances_1: httpOf(http[1]), instances_3: httpOf(http[3]) },
    pooled: d.optimistic_pooled ? { optimistic: distinctOf('optimistic_pooled') } : null,
  };
  const errors: Record<string, number> = {};
  for (const [cell, r] of Object.entries(d)) errors[`distinct.${cell}`] = r.errors;
  for (const [s, r] of Object.entries(storm)) errors[`hot_storm.${s}`] = r.errors;
  errors['http.instances_1'] = http[1].errors;
  errors['http.instances_3'] = http[3].errors;
  const extras: BenchExtras = {
    rounds: options.rounds,
    quick: options.quick,
    floor: { p50_ms: d.floor.p50_ms, p99_ms: d.floor.p99_ms, db_round_trips_per_pay: roundTrips.floor },
    optimisticStub: {
      pays_per_s: d.optimistic_stub.pays_per_s,
      p50_ms: d.optimistic_stub.p50_ms,
      p99_ms: d.optimistic_stub.p99_ms,
    },
    providerOnly: {
      pays_per_s: d.provider_only.pays_per_s,
      p50_ms: d.provider_only.p50_ms,
      p99_ms: d.provider_only.p99_ms,
    },
    stormWaves: {
      optimistic: storm.optimistic.waves,
      pessimistic: storm.pessimistic.waves,
      naive: storm.naive.waves,
    },
    errors,
  };
  const targets = checkTargets(json);
  console.log(formatReport(json, extras, targets));
  if (options.json) console.log(JSON.stringify(json));
  // Exit status reports correctness only (never timing): a double charge by the product, or a pay
  // that failed where none should, is a failed run.
  const failed = !targets[0]!.met || Object.values(errors).some((e) => e > 0);
  return failed ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    console.error('bench failed:', err);
    await cleanupAll();
    process.exit(1);
  });
