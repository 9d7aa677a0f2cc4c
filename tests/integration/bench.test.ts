import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { logNormal, STRIPE_LIKE } from '../bench/latency';
import { judgeRatio } from '../bench/targets';
import { runScript } from '../support/processes';

const spreadOf = (min: number, median: number, max: number) => ({ min, median, max });

it('a target is judged on the spread: met or missed only when every round agrees, else inconclusive', () => {
  // a >= 2·b: lowest possible ratio min(a)/max(b), highest max(a)/min(b).
  expect(judgeRatio(spreadOf(200, 210, 220), spreadOf(90, 95, 100), 2, 'at_least').verdict).toBe('met');
  expect(judgeRatio(spreadOf(150, 160, 170), spreadOf(90, 95, 100), 2, 'at_least').verdict).toBe('missed');
  // Median ratio 2.21 would pass, but a slow round of a against a fast round of b gives 1.8: crosses.
  expect(judgeRatio(spreadOf(180, 210, 220), spreadOf(90, 95, 100), 2, 'at_least')).toEqual({
    measured: '2.21x (1.80x-2.44x)',
    verdict: 'inconclusive',
  });
  // ... and the median ratio 1.89 would fail, but a fast round reaches 2.2: crosses, not missed.
  expect(judgeRatio(spreadOf(170, 180, 220), spreadOf(90, 95, 100), 2, 'at_least').verdict).toBe(
    'inconclusive',
  );
  // a <= 1.5·b (a p99 against a ceiling's p99) mirrors it.
  expect(judgeRatio(spreadOf(100, 110, 120), spreadOf(90, 95, 100), 1.5, 'at_most').verdict).toBe('met');
  expect(judgeRatio(spreadOf(160, 170, 180), spreadOf(90, 95, 100), 1.5, 'at_most').verdict).toBe('missed');
  expect(judgeRatio(spreadOf(100, 140, 160), spreadOf(90, 95, 100), 1.5, 'at_most').verdict).toBe(
    'inconclusive',
  );
});

it('a reference that measured nothing gives no verdict: 0 pays/s or a NaN round is inconclusive, not met', () => {
  const none = spreadOf(0, 0, 0);
  const lost = spreadOf(Number.NaN, Number.NaN, Number.NaN);
  // Without the guard a / 0 = Infinity would read "met" for every at_least target.
  expect(judgeRatio(spreadOf(200, 210, 220), none, 0.5, 'at_least')).toEqual({
    measured: 'n/a (n/a-n/a)',
    verdict: 'inconclusive',
  });
  expect(judgeRatio(spreadOf(200, 210, 220), lost, 0.5, 'at_least').verdict).toBe('inconclusive');
  expect(judgeRatio(lost, spreadOf(90, 95, 100), 1.5, 'at_most').verdict).toBe('inconclusive');
  // One zero round in the reference leaves the top of the range unbounded, not the bottom: the
  // lowest ratio, min(a)/max(b) = 2.00, still reaches 2, so the target is met ...
  expect(judgeRatio(spreadOf(200, 210, 220), spreadOf(0, 95, 100), 2, 'at_least')).toEqual({
    measured: '2.21x (2.00x-n/a)',
    verdict: 'met',
  });
  // ... and an at_most target on it cannot be met (its highest ratio is unbounded).
  expect(judgeRatio(spreadOf(100, 110, 120), spreadOf(0, 95, 100), 1.5, 'at_most').verdict).toBe(
    'inconclusive',
  );
});

/**
 * Smoke run of `pnpm bench -- --quick --json`. Asserts correctness facts only, never timing: on
 * shared 2-core machines any throughput ratio would be flaky. The targets on speed are reported by
 * the bench itself.
 */
it('provider_latency draws the stated distribution: log-normal, median 300 ms, p99 1.8 s, seeded', () => {
  const draws = Array.from({ length: 50_000 }, logNormal(STRIPE_LIKE, 42)).sort((a, b) => a - b);
  const at = (q: number) => draws[Math.floor(q * draws.length)]!;
  expect(at(0.5)).toBeGreaterThan(290);
  expect(at(0.5)).toBeLessThan(310);
  expect(at(0.99)).toBeGreaterThan(1_650);
  expect(at(0.99)).toBeLessThan(1_950);
  expect(draws[0]).toBeGreaterThan(0);
  expect(draws.at(-1)).toBeLessThanOrEqual(STRIPE_LIKE.capMs);
  // Seeded: the same seed replays the same sequence (every strategy of a round sees it), another differs.
  const first = (seed: number) => Array.from({ length: 5 }, logNormal(STRIPE_LIKE, seed));
  expect(first(7)).toEqual(first(7));
  expect(first(7)).not.toEqual(first(8));
});

it('pnpm bench --quick --json: JSON shape, no double charge by the product, the naive bug visible', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chargeonce-bench-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const picture = join(dir, 'bench.svg');
  const run = await runScript('tests/bench/main.ts', ['--', '--quick', '--json', '--svg', picture]);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

  const result = JSON.parse(run.lastLine);
  const num = expect.any(Number);
  // Every measured figure is a spread over rounds; duplicates (a total) and round trips are counts.
  const fig = { min: num, median: num, max: num };
  const distinctCell = {
    pays_per_s: fig,
    p50_ms: fig,
    p99_ms: fig,
    duplicates: num,
    db_round_trips_per_pay: num,
  };
  const stormCell = {
    background_pays_per_s: fig,
    background_p99_ms: fig,
    storm_p99_ms: fig,
    duplicates: num,
  };
  const httpCell = { pays_per_s: fig, p50_ms: fig, p99_ms: fig, duplicates: num };
  const serverCell = { ...httpCell, server_cpu_us_per_pay: fig };
  const openCell = { p50_ms: fig, p99_ms: fig, p999_ms: fig, max_ms: fig, duplicates: num };
  const costCell = {
    cpu_us_per_pay_process: fig,
    cpu_us_per_pay_postgres: fig,
    cpu_us_per_pay_total: fig,
    wal_bytes_per_pay: fig,
    rows_written_per_pay: fig,
    db_round_trips_per_pay: fig,
  };
  expect(result).toEqual({
    targets: expect.any(Array),
    floor: { pays_per_s: fig },
    distinct: { optimistic: distinctCell, pessimistic: distinctCell, naive: distinctCell },
    hot_storm: { optimistic: stormCell, pessimistic: stormCell, naive: stormCell },
    http: {
      instances_1: serverCell,
      instances_3: serverCell,
      floor: serverCell,
      open_loop: { rate_per_s: num, instances_1: openCell, floor: openCell },
    },
    costs: { floor: costCell, optimistic: costCell, pessimistic: costCell, naive: costCell },
    // .ci/run installs PgBouncer: the pooled path is measured.
    pooled: { optimistic: distinctCell },
    provider_latency: {
      optimistic: httpCell,
      pessimistic: httpCell,
      naive: httpCell,
      provider_only: httpCell,
    },
  });

  // The product never double-charges, in any workload.
  expect([
    result.distinct.optimistic.duplicates,
    result.pooled.optimistic.duplicates,
    result.hot_storm.optimistic.duplicates,
    result.http.instances_1.duplicates,
    result.http.instances_3.duplicates,
    result.http.open_loop.instances_1.duplicates,
    result.provider_latency.optimistic.duplicates,
  ]).toEqual([0, 0, 0, 0, 0, 0, 0]);
  // The bench can see the bug it exists to show: 64 concurrent naive pays on one order double-charge.
  expect(result.hot_storm.naive.duplicates).toBeGreaterThan(0);
  // The pessimistic fix is safe too (it is slow, not wrong).
  expect(result.hot_storm.pessimistic.duplicates).toBe(0);
  expect(result.provider_latency.pessimistic.duplicates).toBe(0);
  // The provider really was slow in provider_latency: every charge waits at least its draw, so the
  // p50 of the pays is at least about the quick run's median draw (30 ms); load only adds to it.
  expect(result.provider_latency.provider_only.p50_ms.min).toBeGreaterThanOrEqual(25);
  expect(result.provider_latency.optimistic.p50_ms.min).toBeGreaterThanOrEqual(25);
  expect(result.provider_latency.provider_only.pays_per_s.min).toBeGreaterThan(0);
  expect(result.distinct.optimistic.db_round_trips_per_pay).toBeLessThanOrEqual(2);
  // Through the pooler the statements are unnamed, not more: still two round trips.
  expect(result.pooled.optimistic.db_round_trips_per_pay).toBeLessThanOrEqual(2);
  // Costs are counted, not timed: the product's pay is 2 statements and writes at least its 4 rows
  // (claim: order + attempt; settle: attempt + order); naive writes 1; every pay writes WAL and
  // costs CPU on both sides (the embedded PostgreSQL's backend is on this machine).
  const costs = result.costs;
  expect(costs.optimistic.db_round_trips_per_pay.median).toBe(2);
  expect(costs.floor.db_round_trips_per_pay.median).toBe(2);
  expect(costs.optimistic.rows_written_per_pay.min).toBeGreaterThanOrEqual(4);
  expect(costs.naive.rows_written_per_pay.min).toBeGreaterThanOrEqual(1);
  for (const cell of ['floor', 'optimistic', 'pessimistic', 'naive'])
    for (const figure of ['cpu_us_per_pay_process', 'cpu_us_per_pay_postgres', 'wal_bytes_per_pay'])
      expect(costs[cell][figure].min, `${cell}.${figure}`).toBeGreaterThan(0);
  // Something was measured in every cell, and every spread is ordered.
  expect(result.floor.pays_per_s.min).toBeGreaterThan(0);
  expect(result.http.instances_1.pays_per_s.min).toBeGreaterThan(0);
  expect(result.http.floor.pays_per_s.min).toBeGreaterThan(0);
  // The serving processes' CPU was read from /proc: every pay costs some, the product more than
  // the bare route (tRPC, auth, the caller's key, the SDK), counted not timed.
  for (const k of ['instances_1', 'instances_3', 'floor'])
    expect(result.http[k].server_cpu_us_per_pay.min, k).toBeGreaterThan(0);
  expect(result.http.instances_1.server_cpu_us_per_pay.median).toBeGreaterThan(
    result.http.floor.server_cpu_us_per_pay.median,
  );
  // The open loop runs at half the product's closed-loop median, and every pay was timed.
  expect(result.http.open_loop.rate_per_s).toBe(
    Math.max(1, Math.round(result.http.instances_1.pays_per_s.median / 2)),
  );
  for (const t of ['instances_1', 'floor']) expect(result.http.open_loop[t].p50_ms.min, t).toBeGreaterThan(0);
  const spreads: Array<{ min: number; median: number; max: number }> = [];
  JSON.stringify(result, (_key, value) => {
    if (value && typeof value === 'object' && 'median' in value) spreads.push(value);
    return value;
  });
  expect(spreads.length).toBeGreaterThan(30);
  for (const s of spreads) expect(s.min <= s.median && s.median <= s.max, JSON.stringify(s)).toBe(true);
  // Every target has a verdict, and the product's safety target is met outright.
  for (const t of result.targets) expect(['met', 'missed', 'inconclusive']).toContain(t.verdict);
  expect(result.targets.map((t: { target: string }) => t.target)).toEqual(
    expect.arrayContaining([
      'provider_latency optimistic >= 10x pessimistic',
      'provider_latency optimistic >= 0.85x provider_only',
      'provider_latency optimistic p99 <= 1.5x provider_only p99',
      'distinct optimistic CPU per pay (process + PostgreSQL) <= 1.15x naive',
      'optimistic WAL bytes per pay <= 1.5x naive',
      'http 1 instance >= 0.5x http floor',
    ]),
  );
  // The picture went where --svg said (a quick run writes none by default), drawn from this JSON.
  const svg = readFileSync(picture, 'utf8');
  expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
  expect(svg).toContain(`http, open loop at ${result.http.open_loop.rate_per_s} pays/s`);
  expect(svg).toContain('Quick run');
  expect(result.targets[0]).toMatchObject({
    target: 'optimistic duplicates = 0 in every workload',
    verdict: 'met',
  });
}, 240_000);
