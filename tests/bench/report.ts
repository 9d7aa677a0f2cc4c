import { cpus } from 'node:os';
import { COSTED } from './costs';
import { OPEN_LOOP_TARGETS } from './http';
import { type BenchExtras, type BenchJson, PROVIDER_LATENCY_CELLS } from './result';
import type { Spread } from './stats';

const int = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '-');
const tenth = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
/** `median (min-max)`, or the one value when every round gave the same. */
const spreadOf = (f: (v: number) => string) => (s: Spread) => {
  const [lo, mid, hi] = [f(s.min), f(s.median), f(s.max)];
  return lo === hi ? mid : `${mid} (${lo}-${hi})`;
};
const n = spreadOf(int);
const ms = spreadOf(tenth);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** The human report: Markdown tables, so the README can take them as they are. */
export function formatReport(r: BenchJson, extras: BenchExtras): string {
  const cpu = cpus();
  const out: string[] = [];
  out.push(
    `chargeonce bench: ${extras.quick ? 'quick' : 'full'} run, ${extras.rounds} round(s) alternated, each figure median (min-max) over rounds; ` +
      `Node ${process.version}, ${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? '?'}); pool 10 per strategy`,
  );
  out.push('', 'distinct: 32 clients, distinct orders, provider latency 0');
  out.push(
    table(
      ['strategy', 'pays/s', 'p50 ms', 'p99 ms', 'duplicates', 'DB round trips/pay'],
      [
        [
          'floor (SQL only, stub provider)',
          n(r.floor.pays_per_s),
          ms(extras.floor.p50_ms),
          ms(extras.floor.p99_ms),
          '-',
          String(extras.floor.db_round_trips_per_pay),
        ],
        ...(['optimistic', 'pessimistic', 'naive'] as const).map((s) => {
          const c = r.distinct[s];
          return [
            s,
            n(c.pays_per_s),
            ms(c.p50_ms),
            ms(c.p99_ms),
            String(c.duplicates),
            String(c.db_round_trips_per_pay),
          ];
        }),
        ...(r.pooled
          ? [
              [
                'optimistic through PgBouncer (transaction mode, unnamed statements)',
                n(r.pooled.optimistic.pays_per_s),
                ms(r.pooled.optimistic.p50_ms),
                ms(r.pooled.optimistic.p99_ms),
                String(r.pooled.optimistic.duplicates),
                String(r.pooled.optimistic.db_round_trips_per_pay),
              ],
            ]
          : []),
        [
          'optimistic, stub provider (diagnostic)',
          n(extras.optimisticStub.pays_per_s),
          ms(extras.optimisticStub.p50_ms),
          ms(extras.optimisticStub.p99_ms),
          '-',
          '-',
        ],
        [
          'provider call only, no DB (diagnostic)',
          n(extras.providerOnly.pays_per_s),
          ms(extras.providerOnly.p50_ms),
          ms(extras.providerOnly.p99_ms),
          '-',
          '0',
        ],
      ],
    ),
  );
  out.push(
    '',
    'costs per uncontended pay: sequential pays on one connection, provider stub (no SDK); CPU in µs, ' +
      'WAL from the insert position (full_page_writes off in the throwaway cluster)',
  );
  out.push(
    table(
      [
        'strategy',
        'CPU µs (process)',
        'CPU µs (PostgreSQL)',
        'CPU µs (total)',
        'WAL bytes',
        'rows written',
        'round trips',
      ],
      COSTED.map((s) => {
        const c = r.costs[s];
        return [
          s === 'floor' ? 'floor (SQL only)' : s,
          n(c.cpu_us_per_pay_process),
          n(c.cpu_us_per_pay_postgres),
          n(c.cpu_us_per_pay_total),
          n(c.wal_bytes_per_pay),
          ms(c.rows_written_per_pay),
          ms(c.db_round_trips_per_pay),
        ];
      }),
    ),
  );
  out.push(
    '',
    'hot_storm: waves of 64 concurrent pays on one order + 32 background clients, provider latency 50 ms',
  );
  out.push(
    table(
      ['strategy', 'background pays/s', 'background p99 ms', 'storm p99 ms', 'storm waves', 'duplicates'],
      (['optimistic', 'pessimistic', 'naive'] as const).map((s) => {
        const c = r.hot_storm[s];
        return [
          s,
          n(c.background_pays_per_s),
          ms(c.background_p99_ms),
          ms(c.storm_p99_ms),
          n(extras.stormWaves[s]),
          String(c.duplicates),
        ];
      }),
    ),
  );
  out.push(
    '',
    'http: the product end to end (@chargeonce/client -> fastify/tRPC -> payOrder -> stripe SDK; production build), ' +
      'and the HTTP floor (the same 2 statements behind a bare fastify route, fetch); 32 closed-loop clients',
  );
  out.push(
    table(
      ['server', 'pays/s', 'p50 ms', 'p99 ms', 'server CPU µs/pay', 'duplicates'],
      (['instances_1', 'instances_3', 'floor'] as const).map((k) => {
        const c = r.http[k];
        const name =
          k === 'floor' ? 'HTTP floor, 1 process' : `product, ${k.replace('instances_', '')} process(es)`;
        return [
          name,
          n(c.pays_per_s),
          ms(c.p50_ms),
          ms(c.p99_ms),
          n(c.server_cpu_us_per_pay),
          k === 'floor' ? '-' : String(c.duplicates),
        ];
      }),
    ),
  );
  const open = r.http.open_loop;
  out.push(
    '',
    `http open loop: ${open.rate_per_s} pays/s arriving on a fixed schedule (half the product's closed-loop median), ` +
      'latency from each scheduled start (HDR histogram)',
  );
  out.push(
    table(
      ['server', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'duplicates'],
      OPEN_LOOP_TARGETS.map((t) => {
        const c = open[t];
        return [
          t === 'floor' ? 'HTTP floor, 1 process' : 'product, 1 process',
          ms(c.p50_ms),
          ms(c.p99_ms),
          ms(c.p999_ms),
          ms(c.max_ms),
          t === 'floor' ? '-' : String(c.duplicates),
        ];
      }),
    ),
  );
  const lat = extras.latency;
  out.push(
    '',
    `provider_latency: ${lat.clients} clients, distinct orders, provider latency log-normal ` +
      `(median ${lat.medianMs} ms, p99 ${lat.p99Ms} ms, seeded), pool 10 per strategy`,
  );
  out.push(
    table(
      ['strategy', 'pays/s', 'p50 ms', 'p99 ms', 'duplicates'],
      PROVIDER_LATENCY_CELLS.map((cell) => {
        const c = r.provider_latency[cell];
        const name = cell === 'provider_only' ? 'provider call only, no DB (ceiling)' : cell;
        return [name, n(c.pays_per_s), ms(c.p50_ms), ms(c.p99_ms), String(c.duplicates)];
      }),
    ),
  );
  out.push(
    '',
    'targets (issues 5 and 15): ratio of medians (lowest-highest the spreads allow); inconclusive = crosses',
  );
  out.push(
    table(
      ['target', 'measured', 'result'],
      r.targets.map((t) => [t.target, t.measured, t.verdict === 'missed' ? 'MISSED' : t.verdict]),
    ),
  );
  const errors = Object.entries(extras.errors).filter(([, v]) => v > 0);
  if (errors.length > 0) out.push('', `failed pays: ${errors.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return out.join('\n');
}
