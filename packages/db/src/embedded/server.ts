/** Launching and stopping the postmaster, picking a free port, creating the requested database. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { PG_PASSWORD, PG_USER } from './constants';
import { type Context, LogTail, spawnFailure, spawnOptions } from './tools';
import { errCode, quoteIdent } from './util';

const STARTUP_TIMEOUT_MS = 60_000;

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

/** Spawns the postmaster and resolves once it accepts connections. */
export function launchServer(
  ctx: Context,
  dir: string,
  port: number,
  persistent: boolean,
  onLog?: (line: string) => void,
): Promise<ChildProcess> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '300',
    lc_messages: 'C',
    ...(persistent ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  };
  const args = ['-D', dir, '-p', String(port)];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);

  let onReady = () => {};
  const log = new LogTail((line) => {
    if (line.includes('database system is ready to accept connections')) onReady();
    onLog?.(line);
  });
  // detached: its own process group, so a Ctrl-C at the terminal reaches only our process, which decides
  // when to stop() the server (e.g. after draining its own work)
  let child: ChildProcess;
  try {
    child = spawn(path.join(ctx.binDir, 'postgres'), args, spawnOptions(ctx, true));
  } catch (err) {
    return Promise.reject(spawnFailure('postgres', ctx, err));
  }
  // keep reading its output for the server's whole life, or it would block once the pipe fills
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
  return new Promise<ChildProcess>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onReady = () => {};
      if (err) reject(err);
      else resolve(child);
    };
    onReady = () => finish();
    const timer = setTimeout(() => {
      const message = `PostgreSQL did not become ready within ${STARTUP_TIMEOUT_MS} ms:\n${log.tail()}`;
      void stopChild(child).finally(() => finish(new StartError(message, false)));
    }, STARTUP_TIMEOUT_MS);
    child.once('error', (err) => finish(spawnFailure('postgres', ctx, err)));
    child.once('exit', (code, sig) => {
      if (settled) return;
      const report = () => {
        log.flush();
        const tail = log.tail();
        const portInUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(
          tail,
        );
        finish(
          new StartError(
            `PostgreSQL exited during startup (exit code ${code ?? 'none'}${sig ? `, signal ${sig}` : ''}) ` +
              `on port ${port} with data directory ${dir}:\n${tail}`,
            portInUse,
          ),
        );
      };
      // quote the last lines once the pipes have delivered them (bounded: a stray child may hold them open)
      const fallback = setTimeout(report, 1_000);
      child.once('close', () => {
        clearTimeout(fallback);
        report();
      });
    });
  });
}

/** Stops our own postmaster child: fast shutdown, then immediate, then SIGKILL. */
export async function stopChild(child: ChildProcess): Promise<void> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (exited() || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 10_000],
  ];
  for (const [sig, timeout] of steps) {
    if (exited()) return;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      gone.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
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
