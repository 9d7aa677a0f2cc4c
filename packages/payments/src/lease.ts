import type { Executor } from '@chargeonce/db';
import { and, eq, getTableColumns, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';

/** A table whose rows recovery leases: `lease_until` and `recovery_runs`, as on attempts and refunds. */
type Leasable = PgTable & { id: AnyPgColumn; leaseUntil: AnyPgColumn; recoveryRuns: AnyPgColumn };

export interface LeaseOptions {
  /** Which rows are due (in flight, past their grace). */
  due: SQL;
  /** How long one worker owns a row before another may take it. */
  leaseMs: number;
  batchSize: number;
  /** The column a row's age (`ageMs`) and the batch order count from. */
  since: AnyPgColumn;
}

const leaseUntil = (ms: number) => sql`now() + make_interval(secs => ${ms / 1000})`;
const withAge = <T extends Leasable>(table: T, since: AnyPgColumn) => ({
  ...(getTableColumns(table) as T['_']['columns']),
  ageMs: sql<number>`(extract(epoch from (now() - ${since})) * 1000)::float8`,
});

/**
 * Takes up to `batchSize` due rows, leasing each to this worker: `FOR UPDATE SKIP LOCKED` plus the
 * conditional `lease_until` let any number of workers on any number of instances run at once
 * without re-driving one row twice at a time. Each lease bumps `recovery_runs`.
 */
export async function leaseRows<T extends Leasable>(db: Executor, table: T, options: LeaseOptions) {
  const stale = db
    .select({ id: table.id })
    .from(table as PgTable)
    .where(and(options.due, or(isNull(table.leaseUntil), lt(table.leaseUntil, sql`now()`))))
    .orderBy(options.since)
    .limit(options.batchSize)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(table as PgTable)
    .set({ leaseUntil: leaseUntil(options.leaseMs), recoveryRuns: sql`${table.recoveryRuns} + 1` } as never)
    .where(inArray(table.id, stale))
    .returning(withAge(table, options.since));
  return rows as unknown as (T['$inferSelect'] & { ageMs: number })[];
}

/**
 * Takes a row's lease afresh right before its provider call. A batch is driven one row after
 * another, so by the time a worker reaches a row its first lease may have run out and another
 * worker taken it (`recovery_runs` moved on): then this one leaves it (`undefined`).
 */
export async function renewRowLease<T extends Leasable>(
  db: Executor,
  table: T,
  row: { id: string; recoveryRuns: number },
  options: { still: SQL; leaseMs: number; since: AnyPgColumn },
) {
  const [renewed] = await db
    .update(table as PgTable)
    .set({ leaseUntil: leaseUntil(options.leaseMs) } as never)
    .where(and(eq(table.id, row.id), eq(table.recoveryRuns, row.recoveryRuns), options.still))
    .returning(withAge(table, options.since));
  return renewed as unknown as (T['$inferSelect'] & { ageMs: number }) | undefined;
}
