import { createDb, type DbHandle } from '@chargeonce/db';
import { onCleanup } from './cleanup';
import { type CostedPay, costedPays, insertLsn } from './costs';
import { type BenchEnv, freshOrders } from './environment';
import type { PayFn } from './strategies';

/**
 * Where an uncontended pay's WAL goes, by record type: the costs' setup (`pays` sequential pays on
 * fresh orders through a pool of ONE connection, zero-latency provider stub, two warm-up pays
 * outside the window), with the insert LSN read before and after, then PostgreSQL's own account of
 * the records in between: `pg_walinspect`'s `pg_get_wal_stats(start_lsn, end_lsn, per_record =>
 * true)`. The bench's throwaway cluster runs `full_page_writes=off`, so `fpi_size` is 0 here; a
 * production primary adds a full-page image on the first change to a page after each checkpoint.
 *
 * pg_walinspect reads WAL only up to the flush LSN, and the cluster runs `synchronous_commit=off`:
 * the window's end is waited for (`pg_current_wal_flush_lsn()` polled, with a ceiling) before it is
 * read, else the last records would be silently missing (after 300 pays the flush LSN was seen up to
 * 0.6 MB behind, most of the window, caught up by the WAL writer within about 0.3 s).
 *
 * The window is the whole cluster's WAL, not only the pays': other writers (autovacuum or
 * auto-analyze of the catalogs, the checkpointer's and bgwriter's XLOG/Standby records) land in it
 * too. Each pay batch runs right after its seeding, so they stay rare, and they are measured
 * rather than guessed: `otherBytesPerPay` is the records that touched a system catalog (relfilenode
 * below 16384, FirstNormalObjectId) or came from the XLOG/Standby resource managers.
 */

export const WAL_STRATEGIES = ['optimistic', 'naive', 'floor'] as const;
export type WalStrategy = (typeof WAL_STRATEGIES)[number];

export interface WalRecordType {
  /** `resource_manager/record_type` as pg_walinspect names it, e.g. `Heap/HOT_UPDATE`. */
  record: string;
  countPerPay: number;
  /** `record_size + fpi_size` per pay. */
  bytesPerPay: number;
  /** Of the window's record bytes. */
  share: number;
}

export interface WalBreakdown {
  strategy: string;
  pays: number;
  /** Sum of the records' sizes (`combined_size`) per pay. */
  recordBytesPerPay: number;
  /** `pg_wal_lsn_diff(end, start)` per pay: the records plus 8-byte alignment and page headers. */
  lsnBytesPerPay: number;
  /** Records of other writers in the window (see above), per pay. */
  otherBytesPerPay: number;
  otherRecords: string[];
  /** By bytes, largest first. */
  records: WalRecordType[];
  /** The same records by the relation they wrote to (`record` is its name; `(no block)`: e.g. a commit). */
  relations: WalRecordType[];
}

/** The cells the breakdown knows, each on the one-connection pool with the provider stubbed. */
export function walCells(env: BenchEnv): Record<WalStrategy, CostedPay> {
  const { optimistic, naive, floor } = costedPays(env);
  return { optimistic, naive, floor };
}

/** Resolves once the WAL up to `lsn` is flushed (what pg_walinspect can read); polls, with a ceiling. */
export async function waitForFlush(sql: DbHandle['sql'], lsn: string, ceilingMs = 10_000): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  for (;;) {
    const [row] = await sql<{ flushed: boolean }[]>`
      select pg_current_wal_flush_lsn() >= ${lsn}::pg_lsn as flushed`;
    if (row!.flushed) return;
    if (Date.now() > deadline) throw new Error(`wal: WAL not flushed up to ${lsn} after ${ceilingMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** pg_walinspect's statistics of the records in [start, end), per record type and per pay. */
async function readWindow(sql: DbHandle['sql'], start: string, end: string, pays: number) {
  const stats = await sql<{ record: string; count: string; bytes: string }[]>`
    select "resource_manager/record_type" as record, count::text, combined_size::text as bytes
    from pg_get_wal_stats(${start}::pg_lsn, ${end}::pg_lsn, per_record => true)
    where count > 0`;
  const [span] = await sql<{ bytes: string }[]>`
    select pg_wal_lsn_diff(${end}::pg_lsn, ${start}::pg_lsn)::text as bytes`;
  // The same window record by record, by the relation of each record's first block reference
  // (filenode to relation, while the tables still have the filenodes the pays wrote to).
  const byRelation = await sql<
    { relation: string; record: string; other: boolean; count: string; bytes: string }[]
  >`
    with r as (
      select resource_manager, resource_manager || '/' || record_type as record, record_length,
             (regexp_match(coalesce(block_ref, ''), 'rel \\d+/\\d+/(\\d+)'))[1]::oid as filenode
      from pg_get_wal_records_info(${start}::pg_lsn, ${end}::pg_lsn))
    select coalesce(pg_filenode_relation(0, filenode)::text, filenode::text, '(no block)') as relation, record,
           resource_manager in ('XLOG', 'Standby') or coalesce(filenode < 16384::oid, false) as other,
           count(*)::text, sum(record_length)::text as bytes
    from r group by 1, 2, 3`;
  const total = stats.reduce((sum, r) => sum + Number(r.bytes), 0);
  const perPay = (r: { count: string | number; bytes: string | number }) => ({
    countPerPay: Number(r.count) / pays,
    bytesPerPay: Number(r.bytes) / pays,
    share: total > 0 ? Number(r.bytes) / total : 0,
  });
  const byBytes = (a: WalRecordType, b: WalRecordType) =>
    b.bytesPerPay - a.bytesPerPay || a.record.localeCompare(b.record);
  const others = byRelation.filter((r) => r.other);
  const relations = new Map<string, { count: number; bytes: number }>();
  for (const r of byRelation) {
    const sum = relations.get(r.relation) ?? { count: 0, bytes: 0 };
    relations.set(r.relation, { count: sum.count + Number(r.count), bytes: sum.bytes + Number(r.bytes) });
  }
  return {
    recordBytesPerPay: total / pays,
    lsnBytesPerPay: Number(span!.bytes) / pays,
    otherBytesPerPay: others.reduce((sum, r) => sum + Number(r.bytes), 0) / pays,
    otherRecords: [...new Set(others.map((r) => r.record))].sort(),
    records: stats.map((r) => ({ record: r.record, ...perPay(r) })).sort(byBytes),
    relations: [...relations].map(([record, r]) => ({ record, ...perPay(r) })).sort(byBytes),
  };
}

async function window(env: BenchEnv, pool: DbHandle, name: string, pay: PayFn, pays: number) {
  // Seeded through the measured connection; the seeding's own WAL (truncate, insert, analyze) is
  // before the window, as are the two warm-up pays (prepared statements, caches).
  const ids = await freshOrders(pool.sql, env.userId, pays + 2);
  await pay(ids[0]!);
  await pay(ids[1]!);
  const start = await insertLsn(pool.sql);
  for (const id of ids.slice(2)) await pay(id);
  const end = await insertLsn(pool.sql);
  await waitForFlush(pool.sql, end);
  return { strategy: name, pays, ...(await readWindow(pool.sql, start, end, pays)) };
}

/** The WAL breakdown of `pays` sequential pays of each strategy, one strategy after the other. */
export async function measureWal<C extends string>(
  env: BenchEnv,
  cells: Record<C, CostedPay>,
  options: { pays: number },
): Promise<WalBreakdown[]> {
  // The bench's throwaway cluster, connected as its superuser (pg_walinspect needs that or
  // pg_read_server_files).
  await env.admin.sql`create extension if not exists pg_walinspect`;
  const pool = createDb(env.url, { max: 1, applicationName: 'chargeonce-bench-wal' });
  const unregister = onCleanup('wal pool', () => pool.close());
  try {
    const results: WalBreakdown[] = [];
    for (const [name, make] of Object.entries<CostedPay>(cells))
      results.push(await window(env, pool, name, make(pool), options.pays));
    return results;
  } finally {
    unregister();
    await pool.close();
  }
}

/** Per-pay count of `rm/type` records, `type+INIT` (the first record on a new page) included. */
export function countOf(breakdown: WalBreakdown, record: string): number {
  return breakdown.records
    .filter((r) => r.record === record || r.record === `${record}+INIT`)
    .reduce((sum, r) => sum + r.countPerPay, 0);
}

const bytes = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (s: number) => `${(s * 100).toFixed(1)}%`;

const row = (r: WalRecordType) =>
  `| ${r.record} | ${r.countPerPay.toFixed(2)} | ${r.bytesPerPay.toFixed(1)} | ${pct(r.share)} |`;

/** Markdown, as profile-summary's: a title line, then the record types by bytes. */
export function formatWal(b: WalBreakdown): string {
  const other =
    b.otherRecords.length === 0
      ? 'no records of other writers in the window'
      : `of which other writers (autovacuum/analyze of catalogs, checkpointer, bgwriter): ` +
        `${b.otherBytesPerPay.toFixed(1)} B/pay in ${b.otherRecords.join(', ')}`;
  return [
    `${b.strategy}: ${b.pays} pays, ${bytes(b.recordBytesPerPay)} B WAL per pay in records ` +
      `(${bytes(b.lsnBytesPerPay)} B/pay by LSN, alignment and page headers included; ${other})`,
    '',
    '| record (resource manager/type) | count/pay | bytes/pay | share |',
    '| ------------------------------ | --------: | --------: | ----: |',
    ...b.records.map(row),
    '',
    '| relation written (table or index) | records/pay | bytes/pay | share |',
    '| --------------------------------- | ----------: | --------: | ----: |',
    ...b.relations.map(row),
  ].join('\n');
}

/** One line: each strategy's records total against `base`'s, and where the difference is largest. */
export function formatWalComparison(results: WalBreakdown[], base = 'naive'): string {
  const ref = results.find((r) => r.strategy === base);
  if (!ref) return '';
  const parts = results
    .filter((r) => r !== ref)
    .map((r) => {
      const diff = r.records
        .map((x) => ({
          record: x.record,
          extra: x.bytesPerPay - (ref.records.find((y) => y.record === x.record)?.bytesPerPay ?? 0),
        }))
        .filter((x) => x.extra > 0)
        .sort((a, b) => b.extra - a.extra)
        .slice(0, 3)
        .map((x) => `${x.record} +${bytes(x.extra)}`);
      return (
        `${r.strategy} ${(r.recordBytesPerPay / ref.recordBytesPerPay).toFixed(2)}x ${base} ` +
        `(${bytes(r.recordBytesPerPay)} vs ${bytes(ref.recordBytesPerPay)} B/pay; most extra: ${diff.join(', ')})`
      );
    });
  return `WAL per pay: ${parts.join('; ')}`;
}
