import { readdirSync, readFileSync } from 'node:fs';
import { createDb, type DbHandle } from '@chargeonce/db';
import { onCleanup } from './cleanup';
import { type BenchEnv, freshOrders } from './environment';
import { aggregateAll, alternate, type Spreads } from './rounds';
import { floor, type PayFn, strategy, stubGateway } from './strategies';

/**
 * What one uncontended pay costs, in units machine noise cannot move much: every batch is `pays`
 * pays one after another on fresh orders through a pool of ONE connection, with a zero-latency
 * provider stub (no SDK, no emulator in the process), so the process's CPU is the strategy's own
 * code and its driver, and the one PostgreSQL backend serving that connection is the strategy's
 * share of the database.
 *
 * - `cpu_us_per_pay_process`: `process.cpuUsage()` (user + system) of this process over the batch.
 * - `cpu_us_per_pay_postgres`: the backend's on-CPU time from `/proc/<pid>/schedstat` (ns; the
 *   server runs on this machine), NaN where that file cannot be read.
 * - `wal_bytes_per_pay`: the WAL insert position (`pg_current_wal_insert_lsn()`; the write
 *   position lags behind it by whatever the WAL writer has not written yet) before and after. The
 *   bench's throwaway cluster runs with `full_page_writes=off`, so these are the pays' own records;
 *   a production primary adds a full-page image on the first change to a page after a checkpoint.
 * - `rows_written_per_pay`: inserted + updated + deleted tuples in `pg_stat_user_tables`; the
 *   backend is made to flush its pending counters first (`pg_stat_force_next_flush()`, which
 *   PostgreSQL honours before it answers the next statement's ReadyForQuery).
 */
export type CostRound = {
  cpu_us_per_pay_process: number;
  cpu_us_per_pay_postgres: number;
  cpu_us_per_pay_total: number;
  wal_bytes_per_pay: number;
  rows_written_per_pay: number;
  db_round_trips_per_pay: number;
};

/** The cells whose costs the bench reports: the SQL floor and the three strategies. */
export const COSTED = ['floor', 'optimistic', 'pessimistic', 'naive'] as const;
export type CostedCell = (typeof COSTED)[number];

/** A strategy to cost, given the one-connection pool and its own round-trip counter. */
export type CostedPay = (db: DbHandle) => PayFn;

/**
 * The strategies whose per-pay costs are measured, each on the costs' one-connection pool with a
 * zero-latency provider stub (so no SDK or emulator CPU lands in this process's figure). The WAL
 * breakdown (wal.ts) measures some of the same cells.
 */
export function costedPays(env: BenchEnv): Record<CostedCell, CostedPay> {
  const stub = stubGateway(env.gateway);
  const on = (db: DbHandle) => ({ ...env, db, gateway: stub });
  return {
    floor: (db) => floor(on(db)),
    optimistic: (db) => strategy(on(db), 'optimistic'),
    pessimistic: (db) => strategy(on(db), 'pessimistic'),
    naive: (db) => strategy(on(db), 'naive'),
  };
}

/** On-CPU nanoseconds of a process, from the scheduler's own accounting (NaN if unreadable). */
export function onCpuNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/**
 * On-CPU nanoseconds of every thread of a process (a Node process has libuv's pool and V8's
 * helpers besides its main thread): the sum of `/proc/<pid>/task/<tid>/schedstat`; NaN if unreadable.
 */
export function processOnCpuNs(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return Number.NaN; // the process is gone, or this is not Linux
  }
  // A thread that exits between the listing and its read took its time with it: skip it rather
  // than lose the whole reading (a Node process's threads are long-lived; the main one is pid).
  return tids.reduce((sum, tid) => {
    try {
      return sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return sum;
    }
  }, 0);
}

const processCpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function tuplesWritten(admin: DbHandle): Promise<number> {
  const [row] = await admin.sql<{ n: string }[]>`
    select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as n from pg_stat_user_tables`;
  return Number(row!.n);
}

/** The WAL insert position now, as text (`pg_lsn`). */
export async function insertLsn(sql: DbHandle['sql']): Promise<string> {
  const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
  return row!.lsn;
}

async function walBytesSince(admin: DbHandle, lsn: string): Promise<number> {
  const [row] = await admin.sql<{ n: string }[]>`
    select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${lsn}::pg_lsn)::text as n`;
  return Number(row!.n);
}

async function backendPid(pool: DbHandle): Promise<number> {
  const [row] = await pool.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return row!.pid;
}

/** Makes the pool's one backend publish its pending table counters before this resolves. */
async function flushStats(pool: DbHandle): Promise<void> {
  await pool.sql`select pg_stat_force_next_flush()`;
}

/** One batch: `pays` sequential pays on fresh orders, every counter read around exactly them. */
async function batch(env: BenchEnv, pool: DbHandle, counter: { count: number }, pay: PayFn, pays: number) {
  // Seeded through the measured connection itself: the forced flush below then publishes these
  // inserts' counters too, before the window opens (another connection's could land inside it).
  const ids = await freshOrders(pool.sql, env.userId, pays + 2);
  // Warm the connection and its prepared statements: neither is a cost of a pay.
  await pay(ids[0]!);
  await pay(ids[1]!);
  const pid = await backendPid(pool);
  await flushStats(pool);
  const rows0 = await tuplesWritten(env.admin);
  const lsn0 = await insertLsn(env.admin.sql);
  const statements0 = counter.count;
  const backend0 = onCpuNs(pid);
  const process0 = processCpuUs();
  for (const id of ids.slice(2)) await pay(id);
  const processUs = processCpuUs() - process0;
  const backendUs = (onCpuNs(pid) - backend0) / 1000;
  const statements = counter.count - statements0;
  const walBytes = await walBytesSince(env.admin, lsn0);
  await flushStats(pool);
  const rows = (await tuplesWritten(env.admin)) - rows0;
  if ((await backendPid(pool)) !== pid) throw new Error('costs: the pool changed connections mid-batch');
  return {
    cpu_us_per_pay_process: processUs / pays,
    cpu_us_per_pay_postgres: backendUs / pays,
    cpu_us_per_pay_total: (processUs + backendUs) / pays,
    wal_bytes_per_pay: walBytes / pays,
    // The flush statements themselves write nothing; the warm-up pays are outside the window.
    rows_written_per_pay: rows / pays,
    db_round_trips_per_pay: statements / pays,
  };
}

/**
 * Costs of every strategy, batches alternated across strategies round by round as the workloads
 * are, each figure a spread over batches.
 */
export async function measureCosts<C extends string>(
  env: BenchEnv,
  strategies: Record<C, CostedPay>,
  options: { batches: number; pays: number },
): Promise<Record<C, Spreads<CostRound>>> {
  const counter = { count: 0 };
  const pool = createDb(env.url, {
    max: 1,
    applicationName: 'chargeonce-bench-costs',
    onQuery: () => {
      counter.count++;
    },
  });
  const unregister = onCleanup('costs pool', () => pool.close());
  try {
    const pays = Object.fromEntries(
      Object.entries<CostedPay>(strategies).map(([name, make]) => [name, make(pool)]),
    ) as Record<C, PayFn>;
    const cells = Object.keys(strategies) as C[];
    const rounds = await alternate(cells, options.batches, (cell) =>
      batch(env, pool, counter, pays[cell], options.pays),
    );
    return aggregateAll<C, CostRound>(rounds);
  } finally {
    unregister();
    await pool.close();
  }
}
