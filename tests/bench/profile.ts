/**
 * `pnpm bench:profile -- [--target optimistic|http|wal] [--seconds N] [--pays N]`
 *
 * Where a pay's CPU goes, as text: `optimistic` profiles this process (V8's sampling profiler via
 * the inspector) while 32 clients pay distinct orders through `payOrder` and the real `stripe` SDK
 * to the in-process emulator; `http` builds the server and runs one process of the production build
 * (as the image runs it) under `node --cpu-prof` while the same
 * clients pay through `@chargeonce/client`, and keeps only the samples taken during the load (not
 * start-up or shutdown). Prints a summary by package and by function; no profile file is kept.
 * `wal` is not a CPU profile: it breaks one uncontended pay's WAL down by record type
 * (pg_walinspect; see wal.ts) for optimistic, naive and the floor.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { integerFlag, parseCommandLine } from '@chargeonce/cli';
import { startStack } from '../support/stack';
import { exitOnSignals, onCleanup, runToExit } from './cleanup';
import { freshOrders, startBenchEnv } from './environment';
import { benchServerCommand } from './http';
import { closedLoop } from './load';
import { type CpuProfile, formatProfile, summarizeProfile } from './profile-summary';
import { optimistic } from './strategies';
import { formatWal, formatWalComparison, measureWal, walCells } from './wal';
import { DISTINCT_CLIENTS } from './workloads';

const CLI = {
  usage: `usage: pnpm bench:profile -- [--target optimistic|http|wal] [--seconds N] [--pays N] [--save FILE]
  --target   optimistic (payOrder in this process, default), http (one server process, production
             build), or wal (WAL per pay by record type: optimistic, naive, floor; pg_walinspect)
  --seconds  optimistic, http: seconds of load to sample, 1 to 120 (default 10)
  --pays     wal: sequential pays per strategy, 10 to 5000 (default 300)
  --save     optimistic, http: also write the whole .cpuprofile to FILE (Chrome DevTools, speedscope)`,
  options: {
    target: { type: 'string' },
    seconds: { type: 'string' },
    pays: { type: 'string' },
    save: { type: 'string' },
  },
} as const;

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const log = (line: string) => console.error(`bench:profile: ${line}`);

/** 32 closed-loop clients on `ids` for `ms`; the number of pays answered. */
async function load(ids: string[], ms: number, pay: (id: string) => Promise<unknown>): Promise<number> {
  let i = 0;
  const result = await closedLoop({
    clients: DISTINCT_CLIENTS,
    durationMs: ms,
    next: () => {
      const id = ids[i++];
      return id === undefined ? undefined : () => pay(id);
    },
  });
  if (result.errors > 0) throw new Error(`${result.errors} pay(s) failed: ${String(result.firstError)}`);
  return result.latenciesMs.length;
}

let saveTo: string | undefined;
/** With `--save FILE`, the whole profile too (for Chrome DevTools or speedscope); never committed. */
const save = async (profile: CpuProfile) => {
  if (saveTo) await writeFile(saveTo, JSON.stringify(profile));
};

async function profileOptimistic(seconds: number): Promise<string> {
  const env = await startBenchEnv();
  const pay = optimistic(env);
  await load(await freshOrders(env.admin.sql, env.userId, 2_000), 2_000, pay); // warm-up
  const ids = await freshOrders(env.admin.sql, env.userId, seconds * 3_000);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const pays = await load(ids, seconds * 1_000, pay);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  await save(profile as CpuProfile);
  const summary = summarizeProfile(profile as CpuProfile);
  return formatProfile(
    `optimistic payOrder in one process (SDK + emulator included), ${pays} pays`,
    summary,
    (summary.busyMs * 1000) / pays,
  );
}

async function profileHttp(seconds: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chargeonce-profile-'));
  onCleanup('profile folder', () => rm(dir, { recursive: true, force: true }));
  const stack = await startStack({
    instances: 1,
    command: await benchServerCommand(['--cpu-prof', `--cpu-prof-dir=${dir}`]),
    env: { LOG_LEVEL: 'info' }, // the production default, as the http bench runs it
  });
  const stop = onCleanup('server process', () => stack.stop());
  const user = await stack.newUser('profile');
  const api = user.clients[0]!;
  const pay = (orderId: string) => api.orders.pay.mutate({ orderId });
  await load(await freshOrders(stack.db.sql, user.id, 2_000), 2_000, pay); // warm-up
  const ids = await freshOrders(stack.db.sql, user.id, seconds * 2_000);
  const fromUs = monotonicUs();
  const pays = await load(ids, seconds * 1_000, pay);
  const toUs = monotonicUs();
  stop();
  await stack.stop(); // the server writes its profile as it exits
  // One profile per V8 isolate (worker threads write their own); the main thread's is the one
  // with samples during the load.
  const profiles = await Promise.all(
    (await readdir(dir))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CpuProfile),
  );
  const [main] = profiles
    .map((profile) => ({ profile, summary: summarizeProfile(profile, { fromUs, toUs }) }))
    .sort((a, b) => b.summary.busyMs - a.summary.busyMs);
  if (!main) throw new Error(`the server wrote no profile in ${dir}`);
  await save(main.profile);
  const { summary } = main;
  return formatProfile(
    `http: one server process, production build (fastify + tRPC + payOrder + SDK), ${pays} pays`,
    summary,
    (summary.busyMs * 1000) / pays,
  );
}

async function profileWal(pays: number): Promise<string> {
  const env = await startBenchEnv();
  const results = await measureWal(env, walCells(env), { pays });
  return [...results.map(formatWal), formatWalComparison(results)].join('\n\n');
}

async function main(): Promise<number> {
  exitOnSignals();
  const values = parseCommandLine(CLI);
  const target = values.target ?? 'optimistic';
  if (target !== 'optimistic' && target !== 'http' && target !== 'wal') {
    console.error(`--target must be optimistic, http or wal, not ${JSON.stringify(target)}\n${CLI.usage}`);
    return 2;
  }
  if (target === 'wal') {
    const pays =
      values.pays === undefined ? 300 : integerFlag(CLI, 'pays', values.pays, { min: 10, max: 5000 });
    log(`WAL by record type over ${pays} sequential pays per strategy`);
    console.log(await profileWal(pays));
    return 0;
  }
  const seconds =
    values.seconds === undefined ? 10 : integerFlag(CLI, 'seconds', values.seconds, { min: 1, max: 120 });
  saveTo = values.save;
  log(`profiling ${target} for ${seconds} s of load`);
  console.log(target === 'http' ? await profileHttp(seconds) : await profileOptimistic(seconds));
  return 0;
}

runToExit('bench:profile', main);
