/**
 * `pnpm bench -- [--json] [--quick] [--rounds N] [--latency-clients N] [--svg PATH]`
 *
 * Measures, in one run on one machine, the product's optimistic `payOrder` against the classic
 * `SELECT ... FOR UPDATE` fix and naive check-then-act (both kept here, never in the product), with
 * the database's own floor for the same SQL, then all three behind a slow provider
 * (`provider_latency`), then the product end to end over HTTP (production build) against the HTTP
 * floor, closed loop and open loop. Cells of one
 * workload are interleaved round by round (rotating who goes first), so
 * drift on a shared machine hits every strategy alike; every figure is reported as min / median /
 * max over its rounds and targets are judged on that spread (targets.ts). Starts its own PostgreSQL, emulator and
 * server processes on loopback, and stops all of them, also on SIGINT/SIGTERM.
 * With `--json` the last stdout line is the result object of issue 5; progress goes to stderr. A full
 * run (or `--svg PATH`) also draws `docs/bench.svg` from that object.
 */

import { cpus } from 'node:os';
import { cleanupAll, exitOnSignals, runToExit } from './cleanup';
import { costedPays, measureCosts } from './costs';
import { type BenchEnv, startBenchEnv } from './environment';
import {
  HTTP_INSTANCES,
  type HttpRound,
  OPEN_LOOP_TARGETS,
  type OpenLoopTarget,
  openLoopRate,
  startHttpBench,
} from './http';
import { slowGateway } from './latency';
import type { OpenLoopResult } from './open-loop';
import { type BenchOptions, parseOptions } from './options';
import { formatReport } from './report';
import {
  type BenchExtras,
  type BenchJson,
  type OpenLoopFigures,
  PROVIDER_LATENCY_CELLS,
  type ProviderLatencyCell,
} from './result';
import { aggregateAll, alternate, type Spreads } from './rounds';
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
import { benchChartFrom, renderBenchSvg, writeBenchSvg } from './svg';
import { checkTargets } from './targets';
import {
  type DistinctRound,
  distinct,
  hotStorm,
  type ProviderLatencyRound,
  providerLatency,
  roundTripsPerPay,
  type StormRound,
} from './workloads';

const options = parseOptions();
const log = (line: string) => console.error(`bench: ${line}`);

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

  // First, before any other pool has written: another connection's table counters, published up to
  // a second late, would otherwise land inside a batch's rows-written window.
  log('measuring per-pay costs: CPU, WAL, rows written, round trips (sequential uncontended pays)');
  const costs = await measureCosts(env, costedPays(env), options.costs);

  log('counting DB round trips per uncontended pay');
  const roundTrips = {} as Record<DistinctCell, number>;
  for (const cell of cells)
    roundTrips[cell] = await roundTripsPerPay(env, pays[cell], options.roundTripSamples);

  log('warming up (JIT, pools, prepared statements)');
  for (const cell of cells) await distinct(env, pays[cell], 300);

  const distinctRounds = await alternate(cells, options.rounds, async (cell, round) => {
    const result = await distinct(env, pays[cell], options.distinctMs);
    log(`distinct round ${round + 1}/${options.rounds} ${cell}: ${Math.round(result.pays_per_s)} pays/s`);
    return result;
  });
  const stormRounds = await alternate(STRATEGIES, options.rounds, async (s, round) => {
    const result = await hotStorm(env, pays[s], options.stormMs);
    log(
      `hot_storm round ${round + 1}/${options.rounds} ${s}: background ${Math.round(result.background_pays_per_s)} pays/s, ` +
        `${result.waves} waves, ${result.duplicates} duplicates`,
    );
    return result;
  });
  return {
    roundTrips,
    costs,
    distinct: aggregateAll<DistinctCell, DistinctRound>(distinctRounds),
    storm: aggregateAll<StrategyName, StormRound>(stormRounds),
  };
}

/**
 * `provider_latency`: every strategy, and the provider alone, through one gateway that delays each
 * charge by a seeded log-normal draw; the same pool (POOL_SIZE) for all. Each round reseeds the
 * draws, so every cell of a round sees the same latency sequence.
 */
async function underProviderLatency(env: BenchEnv) {
  const { clients, durationMs, shape } = options.latency;
  const slow = slowGateway(env.gateway, shape);
  const slowEnv = { ...env, gateway: slow.gateway };
  const pays: Record<ProviderLatencyCell, PayFn> = {
    optimistic: strategy(slowEnv, 'optimistic'),
    pessimistic: strategy(slowEnv, 'pessimistic'),
    naive: strategy(slowEnv, 'naive'),
    provider_only: providerOnly(slowEnv),
  };
  log(
    `provider_latency: ${clients} clients, provider latency log-normal median ${shape.medianMs} ms, p99 ${shape.p99Ms} ms`,
  );
  const rounds = await alternate(PROVIDER_LATENCY_CELLS, options.rounds, async (cell, round) => {
    slow.reseed(1_000 + round);
    const result = await providerLatency(env, pays[cell], { clients, durationMs, medianMs: shape.medianMs });
    log(
      `provider_latency round ${round + 1}/${options.rounds} ${cell}: ${Math.round(result.pays_per_s)} pays/s, ` +
        `p99 ${Math.round(result.p99_ms)} ms`,
    );
    return result;
  });
  return aggregateAll<ProviderLatencyCell, ProviderLatencyRound>(rounds);
}

type HttpCell = 'instances_1' | 'instances_3' | 'floor';
const HTTP_CELLS: readonly HttpCell[] = [...HTTP_INSTANCES.map((i) => `instances_${i}` as const), 'floor'];

/**
 * The product end to end on 1 and 3 server processes and the HTTP floor (a bare fastify route,
 * same SQL, same clients), closed loop, alternated; then both on one process open loop at half the
 * product's closed-loop median rate, so latency is the service's and not a queue's.
 */
async function overHttp() {
  log('building the server and starting 3 server processes and the HTTP floor');
  const http = await startHttpBench();
  try {
    // Warm-up: JIT and connections in the servers, not measured.
    await http.run(1, 500);
    await http.run(3, 500);
    await http.runFloor(500);
    const closed = await alternate(HTTP_CELLS, options.rounds, async (cell, round) => {
      const result =
        cell === 'floor'
          ? await http.runFloor(options.httpMs)
          : await http.run(cell === 'instances_1' ? 1 : 3, options.httpMs);
      log(`http round ${round + 1}/${options.rounds} ${cell}: ${Math.round(result.pays_per_s)} pays/s`);
      return result;
    });
    const aggregated = aggregateAll<HttpCell, HttpRound>(closed);
    const rate = openLoopRate(aggregated.instances_1.pays_per_s.median);
    log(
      `http open loop: ${rate} pays/s (half the product's closed-loop median) on one process and on the floor`,
    );
    const open = await alternate(OPEN_LOOP_TARGETS, options.rounds, async (target, round) => {
      const result = await http.openLoop(target, rate, options.httpMs);
      log(
        `http open loop round ${round + 1}/${options.rounds} ${target}: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ` +
          `${result.completed}/${result.sent} answered`,
      );
      return result;
    });
    return {
      closed: aggregated,
      open: aggregateAll<OpenLoopTarget, OpenLoopResult & { duplicates: number }>(open),
      rate,
    };
  } finally {
    await http.stop();
  }
}

/** The picture's caption: what ran, when, on what. */
function chartCaption(o: BenchOptions): string {
  const cpu = cpus();
  const day = new Date().toISOString().slice(0, 10);
  return (
    `${o.quick ? 'Quick' : 'Full'} run ${day}, ${o.rounds} round(s) alternated, bars at the median, whiskers min-max; ` +
    `${cpu.length} CPU(s) ${cpu[0]?.model.trim() ?? '?'}, Node ${process.version}`
  );
}

async function main(): Promise<number> {
  exitOnSignals();
  log('starting PostgreSQL (embedded, throwaway) and the Stripe emulator');
  const env = await startBenchEnv();
  const local = await inProcess(env);
  const latency = await underProviderLatency(env);
  // The in-process cells are done: free their PostgreSQL before the http stack starts its own.
  await cleanupAll();
  const http = await overHttp();

  const { roundTrips, costs, distinct: d, storm } = local;
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
  const latencyOf = (r: Spreads<ProviderLatencyRound>) => ({
    pays_per_s: r.pays_per_s,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    duplicates: r.duplicates,
  });
  const httpOf = (r: Spreads<HttpRound>) => ({
    ...latencyOf(r),
    server_cpu_us_per_pay: r.server_cpu_us_per_pay,
  });
  const measured = {
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
    http: {
      instances_1: httpOf(http.closed.instances_1),
      instances_3: httpOf(http.closed.instances_3),
      floor: httpOf(http.closed.floor),
      open_loop: {
        rate_per_s: http.rate,
        ...(Object.fromEntries(
          OPEN_LOOP_TARGETS.map((t) => {
            const { p50_ms, p99_ms, p999_ms, max_ms, duplicates } = http.open[t];
            return [t, { p50_ms, p99_ms, p999_ms, max_ms, duplicates }];
          }),
        ) as Record<OpenLoopTarget, OpenLoopFigures>),
      },
    },
    costs,
    pooled: d.optimistic_pooled ? { optimistic: distinctOf('optimistic_pooled') } : null,
    provider_latency: Object.fromEntries(
      PROVIDER_LATENCY_CELLS.map((c) => [c, latencyOf(latency[c])]),
    ) as BenchJson['provider_latency'],
  };
  const targets = checkTargets(measured);
  const json: BenchJson = { ...measured, targets };
  const errors: Record<string, number> = {};
  for (const [cell, r] of Object.entries(d)) errors[`distinct.${cell}`] = r.errors;
  for (const [s, r] of Object.entries(storm)) errors[`hot_storm.${s}`] = r.errors;
  for (const [c, r] of Object.entries(http.closed)) errors[`http.${c}`] = r.errors;
  for (const [t, r] of Object.entries(http.open)) errors[`http.open_loop.${t}`] = r.errors;
  for (const [c, r] of Object.entries(latency)) errors[`provider_latency.${c}`] = r.errors;
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
    latency: {
      clients: options.latency.clients,
      medianMs: options.latency.shape.medianMs,
      p99Ms: options.latency.shape.p99Ms,
    },
    errors,
  };
  console.log(formatReport(json, extras));
  if (options.json) console.log(JSON.stringify(json));
  // After the JSON: a picture that cannot be written must not cost the run its figures.
  if (options.svg) {
    try {
      writeBenchSvg(options.svg, renderBenchSvg(benchChartFrom(json, chartCaption(options))));
      log(`picture written to ${options.svg}`);
    } catch (err) {
      log(
        `could not write the picture to ${options.svg}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return 1;
    }
  }
  // Exit status reports correctness only (never timing): a double charge by the product, or a pay
  // that failed where none should, is a failed run.
  const failed = targets[0]!.verdict !== 'met' || Object.values(errors).some((e) => e > 0);
  return failed ? 1 : 0;
}

runToExit('bench', main);
