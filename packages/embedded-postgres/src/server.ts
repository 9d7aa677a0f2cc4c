/** Starting and stopping the postmaster with pg_ctl, picking a free port, creating the requested database. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { PG_PASSWORD, PG_USER } from './constants';
import { pidFilePid, procComm, procState, signal } from './proc';
import { type Context, LogTail, runTool, spawnFailure, spawnOptions } from './tools';
import { errCode, quoteIdent, waitFor } from './util';

const STARTUP_TIMEOUT_S = 60;
/**
 * `pg_ctl stop` modes: `fast` disconnects clients and writes a shutdown checkpoint; `immediate` quits
 * at once, as a crash would (the next start replays the WAL).
 */
export type ShutdownMode = 'fast' | 'immediate';
/** The modes tried in turn, each with its deadline in seconds; then SIGKILL. */
const STOP_STEPS: ReadonlyArray<readonly [ShutdownMode, number]> = [
  ['fast', 15],
  ['immediate', 5],
];
/** How long a server that pg_ctl saw go (or one sent SIGKILL) may take to exit. */
const EXIT_WAIT_MS = 5_000;
/** How long a failed start waits for the server's last output lines to come through the pipe. */
const OUTPUT_WAIT_MS = 1_000;
const READY_LINE = 'database system is ready to accept connections';

export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

export class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** The pid in `dir`'s postmaster.pid if a postgres process runs with it: right after our start, our server. */
async function runningPostmaster(dir: string): Promise<number | undefined> {
  const pid = await pidFilePid(dir).catch(() => undefined);
  if (!pid || (await procState(pid)) === 'dead') return undefined;
  return (await procComm(pid)) === 'postgres' ? pid : undefined;
}

/** Until the child's output pipes have closed (every line read), or the deadline. */
function untilClosed(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if ((child.stdout?.closed ?? true) && (child.stderr?.closed ?? true)) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, timeoutMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface LaunchOptions {
  persistent: boolean;
  /** Ephemeral only: acknowledged commits survive a crash of the server (see `ephemeralSettings`). */
  crashSafe: boolean;
  onLog?: ((line: string) => void) | undefined;
}

/**
 * A throwaway cluster trades durability for speed. Crash-safe, it still skips fsync (only a crash of
 * the machine loses what the OS has not written), but a commit is in the WAL before it is
 * acknowledged and pages are logged whole, so a crash of the server (kill, immediate shutdown) loses
 * nothing that a client was told is committed.
 */
function ephemeralSettings(crashSafe: boolean): Record<string, string> {
  const onWhenSafe = crashSafe ? 'on' : 'off';
  return { fsync: 'off', synchronous_commit: onWhenSafe, full_page_writes: onWhenSafe };
}

/**
 * Starts the postmaster with `pg_ctl start --wait` and resolves with its pid once it accepts connections
 * (pg_ctl waits for the "ready" status in postmaster.pid, wherever the log goes). pg_ctl's child calls
 * setsid() before it execs the postmaster: the server runs in a session and process group of its own, so a
 * Ctrl-C at the terminal reaches only our process, which decides when to stop() it.
 */
export async function launchServer(
  ctx: Context,
  dir: string,
  port: number,
  options: LaunchOptions,
): Promise<number> {
  const { persistent, crashSafe, onLog } = options;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '300',
    lc_messages: 'C',
    ...(persistent ? {} : ephemeralSettings(crashSafe)),
  };
  // pg_ctl pastes these into a /bin/sh command line: only our own constants and the port go there; the data
  // directory, which the caller chose, goes in PGDATA instead of -D
  const serverOptions = [
    `-p ${port}`,
    ...Object.entries(settings).map(([key, value]) => `-c ${key}=${value}`),
  ];
  let sawReady = false;
  const log = new LogTail((line) => {
    if (line.includes(READY_LINE)) sawReady = true;
    onLog?.(line);
  });
  const args = [
    'start',
    '--wait',
    '--silent',
    `--timeout=${STARTUP_TIMEOUT_S}`,
    '-o',
    serverOptions.join(' '),
  ];
  let child: ChildProcess;
  try {
    // detached: a Ctrl-C while pg_ctl waits must not kill it and leave a start half done
    child = spawn(
      path.join(ctx.binDir, 'pg_ctl'),
      args,
      spawnOptions(ctx, { env: { PGDATA: dir }, detached: true }),
    );
  } catch (err) {
    throw spawnFailure('pg_ctl', ctx, err);
  }
  // the postmaster inherits pg_ctl's stdout (its stderr goes there too) and outlives pg_ctl: keep reading
  // it for the server's whole life, or the server would block once the pipe fills
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(spawnFailure('pg_ctl', ctx, err)));
    child.once('exit', (exitCode) => resolve(exitCode));
  });

  const pid = await runningPostmaster(dir);
  if (code === 0 && pid !== undefined) {
    // the server logs "ready" before pg_ctl sees it in postmaster.pid, but the line may still be in the pipe
    if (onLog) await waitFor(() => sawReady, OUTPUT_WAIT_MS);
    return pid;
  }
  // pg_ctl gave up waiting (then the server may still be starting: stop it) or the server exited; once it
  // is gone, its last lines have arrived when the pipe closes
  if (pid !== undefined) await stopServer(ctx, dir, pid);
  await untilClosed(child, OUTPUT_WAIT_MS);
  log.flush();
  const tail = log.tail();
  const what =
    pid === undefined
      ? `PostgreSQL exited during startup (pg_ctl exit code ${code ?? 'none'})`
      : `PostgreSQL did not become ready (pg_ctl exit code ${code ?? 'none'}, waiting at most ${STARTUP_TIMEOUT_S} s)`;
  const portInUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(tail);
  throw new StartError(`${what} on port ${port} with data directory ${dir}:\n${tail}`, portInUse);
}

/**
 * Stops postmaster `pid` of the cluster in `dir` and resolves once it has exited: `pg_ctl stop` in fast
 * mode (clients disconnected, shutdown checkpoint), then in immediate mode (crash recovery on the next
 * start), then SIGKILL; `from: 'immediate'` skips the fast step. Safe to call twice and for a server that
 * has already gone.
 */
export async function stopServer(
  ctx: Context,
  dir: string,
  pid: number,
  from: ShutdownMode = 'fast',
): Promise<void> {
  const gone = async () => (await procState(pid)) === 'dead';
  const steps = STOP_STEPS.slice(STOP_STEPS.findIndex(([mode]) => mode === from));
  for (const [mode, timeoutS] of steps) {
    if (await gone()) return;
    // pg_ctl signals the pid in postmaster.pid and waits until the server has removed that file
    const args = ['stop', '--silent', '--wait', `--mode=${mode}`, `--timeout=${timeoutS}`];
    const options = { env: { PGDATA: dir }, detached: true };
    const stopped = await runTool(ctx, 'pg_ctl', args, options).then(
      () => true,
      () => false,
    );
    if (stopped && (await waitFor(gone, EXIT_WAIT_MS))) return;
  }
  if (await gone()) return;
  signal(pid, 'SIGKILL');
  if (!(await waitFor(gone, EXIT_WAIT_MS))) {
    throw new Error(`PostgreSQL server ${pid} on ${dir} did not exit after pg_ctl stop and SIGKILL`);
  }
}

/**
 * SIGKILLs postmaster `pid`, as a crash would, and resolves once it has exited. Its backends notice
 * and exit on their own; `reclaimDataDir` kills any still there before the next start.
 */
export async function killServer(dir: string, pid: number): Promise<void> {
  signal(pid, 'SIGKILL');
  if (!(await waitFor(async () => (await procState(pid)) === 'dead', EXIT_WAIT_MS))) {
    throw new Error(`PostgreSQL server ${pid} on ${dir} did not exit after SIGKILL`);
  }
}

export async function ensureDatabase(port: number, database: string): Promise<void> {
  if (database === 'postgres') return;
  const sql = postgres({
    host: '127.0.0.1',
    port,
    username: PG_USER,
    password: PG_PASSWORD,
    database: 'postgres',
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      try {
        await sql.unsafe(`create database ${quoteIdent(database)}`);
      } catch (err) {
        if (errCode(err) !== '42P04') throw err; // duplicate_database: created concurrently
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
