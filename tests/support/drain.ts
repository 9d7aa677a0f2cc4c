import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createChargeonceClient } from '@chargeonce/client';
import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { REPO_ROOT } from './processes';

/**
 * Ctrl-C on `pnpm start` during a pay, from outside: the server runs through the real wrapper chain
 * (`pnpm --filter @chargeonce/server start`: pnpm → sh → tsx → node) detached in its own process
 * group, against a test PostgreSQL and a Stripe emulator that holds the pay's create; once the
 * emulator has the request, SIGINT goes to the whole group, as a terminal sends it.
 */
export interface DrainTrialOptions {
  /** How long the emulator holds the pay's create (the drain must outlast it). */
  holdMs?: number;
  /**
   * Also SIGINT the server process itself this many times after the group (each once the server
   * has said it heard the one before, so none merges into a pending one): more deliveries of the
   * same press, made certain.
   */
  extraSignals?: number;
  /** Extra server environment (e.g. OLD_BEHAVIOUR's). */
  env?: Record<string, string>;
  /** With CHARGEONCE_SHUTDOWN_DELAY_MS set: ask /readyz while draining. */
  probeReadiness?: boolean;
  /**
   * The root `pnpm start` (builds the web client, then pnpm → sh → pnpm → sh → tsx → node: one more
   * pnpm and shell in the group) instead of `pnpm --filter @chargeonce/server start`.
   */
  root?: boolean;
}

export interface DrainTrial {
  orderId: string;
  /** The pay's answer: its outcome, or the error the caller got. */
  pay: string;
  /** The server's exit as it said it (`exiting N`); null when it printed none. */
  serverExit: number | null;
  /** SIGINT/SIGTERM the server heard (its own lines). */
  signalsHeard: number;
  /** Succeeded PaymentIntents at the provider for the order. */
  charges: number;
  /** /readyz while draining (probeReadiness): status and Connection header. */
  readiness?: { status: number; connection: string | null } | undefined;
  drained: boolean;
  ms: number;
}

export interface DrainHarness {
  trial(options?: DrainTrialOptions): Promise<DrainTrial>;
  /** Succeeded PaymentIntents at the provider for an order, now. */
  chargesFor(orderId: string): number;
  stop(): Promise<void>;
}

/**
 * The harness's self-check: the old behaviour (the second signal exits at once, every delivery
 * counted) with the second delivery made certain. A pay must then be dropped.
 */
export const OLD_BEHAVIOUR = {
  extraSignals: 1,
  env: { CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: '2', CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: '0' },
} as const satisfies DrainTrialOptions;

const STARTUP_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 40_000;

export async function startDrainHarness(): Promise<DrainHarness> {
  const database: TestDatabase = await startTestDatabase();
  const emulator: StripeEmulator = await startStripeEmulator();
  const handle: DbHandle = createDb(database.url, { max: 2 });
  return {
    trial: (options = {}) => runTrial({ database, emulator, db: handle }, options),
    chargesFor: (orderId) => chargesFor(emulator, orderId),
    async stop() {
      await handle.close();
      await emulator.close();
      await database.stop();
    },
  };
}

async function runTrial(
  env: { database: TestDatabase; emulator: StripeEmulator; db: DbHandle },
  options: DrainTrialOptions,
): Promise<DrainTrial> {
  const started = Date.now();
  const server = await startServerGroup(
    options.root ? ['start'] : ['--filter', '@chargeonce/server', 'start'],
    {
      DATABASE_URL: env.database.url,
      STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
      STRIPE_API_BASE: env.emulator.url,
      PORT: '0',
      CHARGEONCE_DEMO: 'off',
      // Nothing but the pay's own request may settle it.
      CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  );
  try {
    const user = await createUserWithToken(env.db.db, { name: 'drain' });
    const client = createChargeonceClient({ url: server.url, token: user.token, maxRetries: 0 });
    const order = await client.orders.create.mutate({
      amount: 1234,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const holdMs = options.holdMs ?? 1500;
    env.emulator.setFaults([
      { fault: 'latency', operation: 'payment_intents.create', ms: holdMs, metadata: { order_id: order.id } },
    ]);
    const before = env.emulator.faultsApplied();
    const pay = client.orders.pay.mutate({ orderId: order.id }).then(
      (r) => r.outcome as string,
      (err: unknown) => `error: ${(err as Error).message}`,
    );
    await until(() => env.emulator.faultsApplied() > before, holdMs, 'the provider to hold the pay');

    await signalGroup(server, options.extraSignals ?? 0);
    const readiness = options.probeReadiness ? await probeReadiness(server.url) : undefined;

    const answer = await pay;
    await server.exited;
    const charges = chargesFor(env.emulator, order.id);
    const serverExit = server.exitCode();
    return {
      orderId: order.id,
      pay: answer,
      serverExit,
      signalsHeard: signalsHeard(server.output),
      charges,
      readiness,
      drained: answer === 'charged' && serverExit === 0 && charges === 1,
      ms: Date.now() - started,
    };
  } finally {
    env.emulator.clearFaults();
    await server.kill();
  }
}

/** The server's own lines for each SIGINT/SIGTERM it heard (counted, coalesced or forcing). */
const signalsHeard = (output: string[]) =>
  output.filter((l) => /^(SIG(INT|TERM)\b|shutdown forced \(SIG)/.test(l)).length;

/** Ctrl-C: SIGINT to the whole group; then `extra` more to the server itself, each once the last is heard. */
async function signalGroup(server: { child: ChildProcess; output: string[] }, extra: number): Promise<void> {
  const pgid = server.child.pid!;
  const pid = extra > 0 ? serverPid(pgid) : 0;
  let before = signalsHeard(server.output);
  process.kill(-pgid, 'SIGINT');
  for (let i = 0; i < extra; i++) {
    const sent = before;
    await until(() => signalsHeard(server.output) > sent, 0, 'the server to hear the last signal');
    before = signalsHeard(server.output);
    process.kill(pid, 'SIGINT');
  }
}

const chargesFor = (emulator: StripeEmulator, orderId: string) =>
  emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId && pi.status === 'succeeded')
    .length;

/** `pnpm <args>` (a start command), leader of a process group of its own. */
async function startServerGroup(args: string[], env: Record<string, string>) {
  const child = spawn('pnpm', args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  let onLine: (line: string) => void = () => {};
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      onLine(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no server line:\n${output.join('\n')}`)),
      STARTUP_TIMEOUT_MS,
    );
    exited.then(() => reject(new Error(`pnpm start exited:\n${output.join('\n')}`)));
    onLine = (line) => {
      const match = /^server: (\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
  }).catch(async (err: unknown) => {
    killGroup(child);
    throw err;
  });
  const bounded = Promise.race([exited, new Promise((r) => setTimeout(r, EXIT_TIMEOUT_MS))]);
  return {
    url,
    child,
    output,
    /** Resolves once pnpm exited (it waits for the server), or after EXIT_TIMEOUT_MS. */
    exited: bounded,
    /** The exit code the server announced last (`... exiting N`). */
    exitCode: () => {
      const said = output.map((l) => /exiting (\d+)/.exec(l)?.[1]).filter((c) => c !== undefined);
      return said.length ? Number(said.at(-1)) : null;
    },
    async kill() {
      killGroup(child);
      await exited;
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The node process running the server's main.ts in the group (tsx's child, not tsx itself). */
function serverPid(pgid: number): number {
  const rows = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' }).split('\n');
  const server = rows
    .map((r) => r.trim().split(/\s+/))
    .find(([, group, ...args]) => Number(group) === pgid && args.join(' ').includes('preflight.cjs'));
  if (!server) throw new Error(`no server process in group ${pgid}`);
  return Number(server[0]);
}

/** /readyz until it answers not-ready (bounded): what a load balancer sees while the server drains. */
async function probeReadiness(url: string) {
  let last: { status: number; connection: string | null } | undefined;
  await until(
    async () => {
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      await res?.arrayBuffer();
      if (res) last = { status: res.status, connection: res.headers.get('connection') };
      return last?.status === 503;
    },
    5_000,
    '/readyz to answer 503',
  ).catch(() => {});
  return last;
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, 5_000);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
