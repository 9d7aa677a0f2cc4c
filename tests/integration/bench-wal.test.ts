/**
 * The WAL breakdown (`pnpm bench:profile -- --target wal`): pg_walinspect's account of the records
 * between the insert LSNs around sequential pays. Only facts that no timing can move are asserted:
 * how many records of which type each pay writes, and that the records add up to the LSN distance.
 * A companion cell (naive plus one row inserted into a probe table per pay) shows the breakdown
 * notices one extra row per pay, so the assertions on the strategies could fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll } from '../bench/cleanup';
import { type BenchEnv, startBenchEnv } from '../bench/environment';
import {
  countOf,
  formatWal,
  formatWalComparison,
  measureWal,
  type WalBreakdown,
  walCells,
} from '../bench/wal';

const PAYS = 20;

describe('the WAL breakdown by record type', () => {
  let env: BenchEnv;
  let results: Record<string, WalBreakdown>;
  beforeAll(async () => {
    env = await startBenchEnv();
    await env.admin.sql`create table wal_probe (order_id uuid primary key)`;
    const cells = walCells(env);
    const list = await measureWal(
      env,
      {
        optimistic: cells.optimistic,
        naive: cells.naive,
        naive_plus_row: (db) => {
          const pay = cells.naive(db);
          return async (orderId) => {
            const outcome = await pay(orderId);
            await db.sql`insert into wal_probe values (${orderId})`;
            return outcome;
          };
        },
      },
      { pays: PAYS },
    );
    results = Object.fromEntries(list.map((b) => [b.strategy, b]));
  });
  afterAll(async () => {
    await cleanupAll();
  });

  const relation = (b: WalBreakdown, name: string) => b.relations.find((r) => r.record === name);

  it('optimistic: one inserted attempt row per pay, and more index entries than naive', () => {
    const { optimistic, naive } = results;
    expect(optimistic!.pays).toBe(PAYS);
    expect(countOf(optimistic!, 'Heap/INSERT')).toBeCloseTo(1, 1);
    expect(relation(optimistic!, 'payment_attempts')).toBeDefined();
    expect(countOf(optimistic!, 'Btree/INSERT_LEAF')).toBeGreaterThan(countOf(naive!, 'Btree/INSERT_LEAF'));
    // Two transactions (claim, settle) against naive's one statement.
    expect(countOf(optimistic!, 'Transaction/COMMIT')).toBeCloseTo(2, 1);
  });

  it('naive: one updated order row per pay and no inserted row', () => {
    const { naive } = results;
    expect(countOf(naive!, 'Heap/UPDATE') + countOf(naive!, 'Heap/HOT_UPDATE')).toBeCloseTo(1, 1);
    expect(countOf(naive!, 'Heap/INSERT')).toBeLessThan(0.1); // fewer than 2 in 20 pays, from anyone
    expect(relation(naive!, 'payment_attempts')).toBeUndefined();
    expect(countOf(naive!, 'Transaction/COMMIT')).toBeCloseTo(1, 1);
  });

  it('the records add up to the LSN distance (within 10%: alignment, page headers)', () => {
    for (const b of Object.values(results)) {
      expect(b.recordBytesPerPay, b.strategy).toBeGreaterThan(0);
      expect(Math.abs(b.lsnBytesPerPay - b.recordBytesPerPay) / b.lsnBytesPerPay, b.strategy).toBeLessThan(
        0.1,
      );
      expect(
        b.records.reduce((sum, r) => sum + r.share, 0),
        b.strategy,
      ).toBeCloseTo(1, 6);
    }
  });

  it('notices a difference: optimistic is over twice naive, and one extra row per pay shows', () => {
    const { optimistic, naive, naive_plus_row: plus } = results;
    expect(optimistic!.recordBytesPerPay).toBeGreaterThan(2 * naive!.recordBytesPerPay);
    // The companion: the same naive pay plus one probe row is one Heap INSERT and one index entry
    // more per pay, attributed to the probe table, so "naive inserts no row" above could fail.
    expect(countOf(plus!, 'Heap/INSERT') - countOf(naive!, 'Heap/INSERT')).toBeCloseTo(1, 1);
    expect(countOf(plus!, 'Btree/INSERT_LEAF') - countOf(naive!, 'Btree/INSERT_LEAF')).toBeCloseTo(1, 1);
    expect(relation(plus!, 'wal_probe')?.countPerPay).toBeCloseTo(1, 1);
    expect(relation(plus!, 'wal_probe_pkey')?.countPerPay).toBeCloseTo(1, 1);
    expect(plus!.recordBytesPerPay).toBeGreaterThan(naive!.recordBytesPerPay);
  });

  it('prints a title line and a table per strategy, and a comparison line', () => {
    const text = formatWal(results.optimistic!);
    expect(text).toMatch(/^optimistic: 20 pays, [\d,]+ B WAL per pay in records/);
    expect(text).toContain('| Btree/INSERT_LEAF |');
    expect(text).toContain('| payment_attempts |');
    expect(formatWalComparison(Object.values(results))).toMatch(/^WAL per pay: optimistic \d+\.\d\dx naive/);
  });
});
