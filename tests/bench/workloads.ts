import { type BenchEnv, countDuplicates, freshOrders } from './environment';
import { closedLoop, type LoadResult, queue } from './load';
import { summarize } from './stats';
import type { PayFn } from './strategies';

export const DISTINCT_CLIENTS = 32;
export const STORM_CLICKS = 64;
export const BACKGROUND_CLIENTS = 32;
export const STORM_LATENCY_MS = 50;

export type DistinctRound = {
  pays_per_s: number;
  p50_ms: number;
  p99_ms: number;
  duplicates: number;
  errors: number;
};

export type StormRound = {
  background_pays_per_s: number;
  background_p99_ms: number;
  storm_p99_ms: number;
  duplicates: number;
  /** Hot orders paid (one per wave of clicks). */
  waves: number;
  errors: number;
};

/** More orders than the fastest strategy can pay in the time: the clock, not the supply, ends a cell. */
export const ordersFor = (durationMs: number, maxPerSecond: number) =>
  Math.ceil((durationMs / 1000) * maxPerSecond) + 64;

function failIfBroken(what: string, load: LoadResult): void {
  if (load.errors > 0) console.error(`bench: ${what}: ${load.errors} pay(s) failed; first:`, load.firstError);
}

/** `clients` closed-loop clients on fresh distinct orders (`supply` of them), provider as it is set. */
async function onDistinctOrders(
  env: BenchEnv,
  pay: PayFn,
  options: { clients: number; durationMs: number; supply: number },
): Promise<LoadResult> {
  env.emulator.reset();
  const next = queue(await freshOrders(env.admin.sql, env.userId, options.supply));
  return closedLoop({
    clients: options.clients,
    durationMs: options.durationMs,
    next: () => {
      const id = next();
      return id === undefined ? undefined : () => pay(id);
    },
  });
}

/** `distinct`: 32 clients, each paying a new order as soon as its previous pay answered. */
export async function distinct(env: BenchEnv, pay: PayFn, durationMs: number): Promise<DistinctRound> {
  env.emulator.setLatency(0);
  const supply = ordersFor(durationMs, 6_000);
  const load = await onDistinctOrders(env, pay, { clients: DISTINCT_CLIENTS, durationMs, supply });
  failIfBroken('distinct', load);
  const s = summarize(load.latenciesMs, load.elapsedMs);
  return {
    pays_per_s: s.perSecond,
    p50_ms: s.p50,
    p99_ms: s.p99,
    duplicates: countDuplicates(env.emulator),
    errors: load.errors,
  };
}

/**
 * `hot_storm`: provider latency 50 ms; 32 background clients pay distinct orders while a storm of
 * 64 concurrent clicks hits one order, wave after wave (a new hot order once every click of the
 * previous wave has answered) for the whole cell, so the storm's effect is felt throughout rather
 * than for one instant.
 */
export async function hotStorm(env: BenchEnv, pay: PayFn, durationMs: number): Promise<StormRound> {
  env.emulator.setLatency(STORM_LATENCY_MS);
  env.emulator.reset();
  const background = ordersFor(durationMs, 1_500);
  const ids = await freshOrders(env.admin.sql, env.userId, background + ordersFor(durationMs, 40));
  const nextBackground = queue(ids.slice(0, background));
  const nextHot = queue(ids.slice(background));
  const stormLatencies: number[] = [];
  let stormErrors = 0;
  let waves = 0;
  const deadline = performance.now() + durationMs;
  const storm = async () => {
    while (performance.now() < deadline) {
      const hot = nextHot();
      if (hot === undefined) return;
      waves++;
      await Promise.all(
        Array.from({ length: STORM_CLICKS }, async () => {
          const t0 = performance.now();
          try {
            await pay(hot);
            stormLatencies.push(performance.now() - t0);
          } catch (err) {
            if (stormErrors++ === 0) console.error('bench: hot_storm: a storm click failed:', err);
          }
        }),
      );
    }
  };
  const [load] = await Promise.all([
    closedLoop({
      clients: BACKGROUND_CLIENTS,
      durationMs,
      next: () => {
        const id = nextBackground();
        return id === undefined ? undefined : () => pay(id);
      },
    }),
    storm(),
  ]);
  failIfBroken('hot_storm background', load);
  const bg = summarize(load.latenciesMs, load.elapsedMs);
  const st = summarize(stormLatencies, durationMs);
  env.emulator.setLatency(0);
  return {
    background_pays_per_s: bg.perSecond,
    background_p99_ms: bg.p99,
    storm_p99_ms: st.p99,
    duplicates: countDuplicates(env.emulator),
    waves,
    errors: load.errors + stormErrors,
  };
}

/**
 * Statements the driver sent per pay, for pays one at a time on fresh orders (uncontended). Every
 * statement is one round trip: postgres.js writes parse/bind/execute/sync of a query in one go.
 */
export async function roundTripsPerPay(env: BenchEnv, pay: PayFn, samples: number): Promise<number> {
  env.emulator.setLatency(0);
  const ids = await freshOrders(env.admin.sql, env.userId, samples + 2);
  // Warm the pool and the prepared-statement caches first: connection setup is not per pay.
  await pay(ids[0]!);
  await pay(ids[1]!);
  const before = env.statements.count;
  for (const id of ids.slice(2)) await pay(id);
  return (env.statements.count - before) / samples;
}

export type ProviderLatencyRound = DistinctRound;

/**
 * `provider_latency`: `clients` clients on distinct orders, each charge delayed by a log-normal
 * provider latency (latency.ts). Throughput counts pays answered before the deadline over the cell's
 * duration (the drain of in-flight pays after it would otherwise charge a strategy with a long
 * queue less per pay); p50/p99 are over every pay, drained ones included.
 */
export async function providerLatency(
  env: BenchEnv,
  pay: PayFn,
  options: { clients: number; durationMs: number; medianMs: number },
): Promise<ProviderLatencyRound> {
  env.emulator.setLatency(0);
  // Twice the rate of `clients` pays each taking the median: more than any strategy can reach.
  const supply = ordersFor(options.durationMs, (2 * options.clients * 1000) / options.medianMs);
  const load = await onDistinctOrders(env, pay, { ...options, supply });
  failIfBroken('provider_latency', load);
  const s = summarize(load.latenciesMs, load.elapsedMs);
  return {
    pays_per_s: (load.completedInTime * 1000) / options.durationMs,
    p50_ms: s.p50,
    p99_ms: s.p99,
    duplicates: countDuplicates(env.emulator),
    errors: load.errors,
  };
}
