import { expect, it } from 'vitest';
import { runScript } from '../support/processes';

/**
 * Smoke run of `pnpm bench -- --quick --json`. Asserts correctness facts only, never timing: on
 * shared 2-core machines any throughput ratio would be flaky. The targets on speed are reported by
 * the bench itself.
 */
it('pnpm bench --quick --json: JSON shape, no double charge by the product, the naive bug visible', async () => {
  const run = await runScript('tests/bench/main.ts', ['--', '--quick', '--json']);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

  const result = JSON.parse(run.lastLine);
  const num = expect.any(Number);
  const distinctCell = {
    pays_per_s: num,
    p50_ms: num,
    p99_ms: num,
    duplicates: num,
    db_round_trips_per_pay: num,
  };
  const stormCell = {
    background_pays_per_s: num,
    background_p99_ms: num,
    storm_p99_ms: num,
    duplicates: num,
  };
  const httpCell = { pays_per_s: num, p50_ms: num, p99_ms: num, duplicates: num };
  expect(result).toEqual({
    floor: { pays_per_s: num },
    distinct: { optimistic: distinctCell, pessimistic: distinctCell, naive: distinctCell },
    hot_storm: { optimistic: stormCell, pessimistic: stormCell, naive: stormCell },
    http: { instances_1: httpCell, instances_3: httpCell },
    // .ci/run installs PgBouncer: the pooled path is measured.
    pooled: { optimistic: distinctCell },
  });

  // The product never double-charges, in any workload.
  expect([
    result.distinct.optimistic.duplicates,
    result.pooled.optimistic.duplicates,
    result.hot_storm.optimistic.duplicates,
    result.http.instances_1.duplicates,
    result.http.instances_3.duplicates,
  ]).toEqual([0, 0, 0, 0, 0]);
  // The bench can see the bug it exists to show: 64 concurrent naive pays on one order double-charge.
  expect(result.hot_storm.naive.duplicates).toBeGreaterThan(0);
  // The pessimistic fix is safe too (it is slow, not wrong).
  expect(result.hot_storm.pessimistic.duplicates).toBe(0);
  expect(result.distinct.optimistic.db_round_trips_per_pay).toBeLessThanOrEqual(2);
  // Through the pooler the statements are unnamed, not more: still two round trips.
  expect(result.pooled.optimistic.db_round_trips_per_pay).toBeLessThanOrEqual(2);
  // Something was measured in every cell.
  expect(result.floor.pays_per_s).toBeGreaterThan(0);
  expect(result.http.instances_1.pays_per_s).toBeGreaterThan(0);
}, 240_000);
