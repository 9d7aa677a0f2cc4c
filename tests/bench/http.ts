import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, type ServerProcess, spawnServer, tsxCommand } from '../support/processes';
import { buildServer, builtServerCommand, LAYOUT } from '../support/production-build';
import { type Stack, startStack } from '../support/stack';
import { onCleanup } from './cleanup';
import { processOnCpuNs } from './costs';
import { countDuplicates, freshOrders } from './environment';
import { closedLoop } from './load';
import { type OpenLoopResult, openLoop } from './open-loop';
import { summarize } from './stats';
import { DISTINCT_CLIENTS, ordersFor } from './workloads';

export const HTTP_INSTANCES = [1, 3] as const;
export type HttpInstances = (typeof HTTP_INSTANCES)[number];

/** Who an open-loop cell drives: the product on its first server, or the HTTP floor. */
export const OPEN_LOOP_TARGETS = ['instances_1', 'floor'] as const;
export type OpenLoopTarget = (typeof OPEN_LOOP_TARGETS)[number];

/**
 * The open loop's arrival rate: half the product's closed-loop throughput on one process, a load
 * it carries with room to spare, so its latencies are service times and not a growing queue.
 */
export const openLoopRate = (closedLoopPaysPerS: number) => Math.max(1, Math.round(closedLoopPaysPerS / 2));

// A type alias, not an interface: aggregate() needs it to be a Record<string, number>.
export type HttpRound = {
  pays_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** On-CPU time of the serving process(es), all threads, per pay answered (µs): noise-proof. */
  server_cpu_us_per_pay: number;
  duplicates: number;
  errors: number;
};

export interface HttpBench {
  /** One cell: 32 clients paying distinct orders through `@chargeonce/client` over HTTP. */
  run(instances: HttpInstances, durationMs: number): Promise<HttpRound>;
  /**
   * The HTTP floor (http-floor-server.ts) under the same load as `run`: 32 closed-loop clients on
   * fresh distinct orders, plain `fetch` POSTs. `duplicates` is 0 by construction (no provider).
   */
  runFloor(durationMs: number): Promise<HttpRound>;
  /**
   * `ratePerS` pays per second on fresh distinct orders for `durationMs`, whatever the answers;
   * `duplicates` as in `run` (0 for the floor).
   */
  openLoop(
    target: OpenLoopTarget,
    ratePerS: number,
    durationMs: number,
  ): Promise<OpenLoopResult & { duplicates: number }>;
  stop(): Promise<void>;
}

/**
 * The bench's production build of the server: a folder of this run's own
 * (`apps/server/dist-bench-<pid>`), removed when the run stops, so neither the integration suite's
 * production-build test (which builds `dist`) nor another bench or profile running at the same time
 * (each building its own) ever empties a bundle under running servers.
 */
export const BENCH_BUILD = `dist-bench-${process.pid}`;

/**
 * Builds the server as the Dockerfile does, into BENCH_BUILD, and registers its removal; `nodeArgs`
 * go to node first. Register the servers' stop after this, so they stop before the folder goes.
 */
export async function benchServerCommand(nodeArgs: string[] = []) {
  const dir = join(REPO_ROOT, LAYOUT.server, BENCH_BUILD);
  onCleanup('bench build', () => rm(dir, { recursive: true, force: true }));
  await buildServer(BENCH_BUILD);
  return builtServerCommand(nodeArgs, BENCH_BUILD);
}

const FLOOR_SERVER = fileURLToPath(new URL('./http-floor-server.ts', import.meta.url));

/**
 * Starts the HTTP floor as its own process on `databaseUrl`, paying orders of `userId`; resolves
 * once it listens. `stop()` sends SIGTERM and resolves with its exit code (0 when clean).
 */
export function startHttpFloor(databaseUrl: string, userId: string): Promise<ServerProcess> {
  return spawnServer(
    { DATABASE_URL: databaseUrl, FLOOR_USER_ID: userId, PORT: '0' },
    { command: tsxCommand(FLOOR_SERVER) },
  );
}

/**
 * One pay through the floor: a JSON POST with the global `fetch` (undici, keep-alive: the product
 * client's transport). The body is always read, so the connection goes back to the pool.
 */
export async function floorPost(url: string, orderId: string): Promise<{ status: number; outcome: string }> {
  const res = await fetch(`${url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId }),
  });
  const body = (await res.json()) as { outcome?: string };
  return { status: res.status, outcome: body.outcome ?? 'none' };
}

/** Rejects unless the floor paid the order: the bench counts it as an error. */
async function floorPay(url: string, orderId: string): Promise<void> {
  const { status, outcome } = await floorPost(url, orderId);
  if (status !== 200) throw new Error(`http floor answered ${status} ${outcome} for ${orderId}`);
}

/**
 * The product end to end: real server processes of the production build, as the image runs them
 * (fastify, tRPC, auth, payOrder, the Stripe SDK), on one database and one emulator, provider
 * latency 0. One stack of 3 processes serves both cells:
 * `instances_1` sends every pay to the first server, `instances_3` spreads them round-robin; an idle
 * process costs nothing, and keeping one stack lets the two cells alternate. The HTTP floor is a
 * fourth process on the same database, idle while the product is measured and vice versa.
 */
export async function startHttpBench(): Promise<HttpBench> {
  const command = await benchServerCommand();
  // LOG_LEVEL info, the production default: one access-log line per request, as deployed (the
  // test stacks run at warn).
  let stack: Stack | undefined = await startStack({
    instances: 3,
    emulatorLatencyMs: 0,
    command,
    env: { LOG_LEVEL: 'info' },
  });
  const unregister = onCleanup('server processes', () => stack?.stop() ?? Promise.resolve());
  const user = await stack.newUser('bench-http');
  let floor: ServerProcess | undefined;
  try {
    floor = await startHttpFloor(stack.database.url, user.id);
  } catch (err) {
    unregister();
    await stack.stop();
    throw err;
  }
  const unregisterFloor = onCleanup('http floor', () => floor?.stop() ?? Promise.resolve());
  const live = () => {
    if (!stack || !floor) throw new Error('http bench stopped');
    return { stack, floor };
  };
  /** Client `client`'s pay: the floor's, or the product's on server `client % instances`. */
  const payer = (
    target: 'floor' | HttpInstances,
    client: number,
  ): ((orderId: string) => Promise<unknown>) => {
    const { floor } = live();
    if (target === 'floor') return (orderId) => floorPay(floor.url, orderId);
    const api = user.clients[client % target]!;
    return (orderId) => api.orders.pay.mutate({ orderId });
  };
  const closedRound = async (target: 'floor' | HttpInstances, durationMs: number): Promise<HttpRound> => {
    const { stack, floor } = live();
    stack.emulator.reset();
    const ids = await freshOrders(stack.db.sql, user.id, ordersFor(durationMs, 4_000));
    const pays = Array.from({ length: DISTINCT_CLIENTS }, (_, client) => payer(target, client));
    const serving = target === 'floor' ? [floor.child] : stack.servers.slice(0, target).map((s) => s.child);
    const serverCpuNs = () => serving.reduce((sum, child) => sum + processOnCpuNs(child.pid!), 0);
    const cpuBefore = serverCpuNs();
    let i = 0;
    const load = await closedLoop({
      clients: DISTINCT_CLIENTS,
      durationMs,
      next: (client) => {
        const orderId = ids[i++];
        const pay = pays[client]!;
        return orderId === undefined ? undefined : () => pay(orderId);
      },
    });
    const cpuNs = serverCpuNs() - cpuBefore;
    if (load.errors > 0)
      console.error(`bench: http ${target}: ${load.errors} pay(s) failed; first:`, load.firstError);
    const s = summarize(load.latenciesMs, load.elapsedMs);
    return {
      pays_per_s: s.perSecond,
      p50_ms: s.p50,
      p99_ms: s.p99,
      // NaN when nothing was answered: no pay, no cost per pay (the target then says inconclusive).
      server_cpu_us_per_pay:
        load.latenciesMs.length > 0 ? cpuNs / 1000 / load.latenciesMs.length : Number.NaN,
      duplicates: target === 'floor' ? 0 : countDuplicates(stack.emulator),
      errors: load.errors,
    };
  };
  return {
    run: (instances, durationMs) => closedRound(instances, durationMs),
    runFloor: (durationMs) => closedRound('floor', durationMs),
    async openLoop(target, ratePerS, durationMs) {
      const { stack } = live();
      stack.emulator.reset();
      const ids = await freshOrders(stack.db.sql, user.id, ordersFor(durationMs, ratePerS));
      const pay = payer(target === 'floor' ? 'floor' : 1, 0);
      let i = 0;
      let firstError: unknown;
      const result = await openLoop({
        ratePerS,
        durationMs,
        next: () => {
          const orderId = ids[i++];
          return orderId === undefined ? undefined : () => pay(orderId);
        },
        onError: (err) => {
          firstError ??= err;
        },
      });
      if (result.errors > 0)
        console.error(`bench: open loop ${target}: ${result.errors} pay(s) failed; first:`, firstError);
      return { ...result, duplicates: target === 'floor' ? 0 : countDuplicates(stack.emulator) };
    },
    async stop() {
      const s = stack;
      const f = floor;
      stack = undefined;
      floor = undefined;
      unregisterFloor();
      unregister();
      await f?.stop();
      await s?.stop();
    },
  };
}
