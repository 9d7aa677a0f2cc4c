import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import { MONITOR_SETTINGS, type NodeState } from './failover';
import { idOf } from './pgbouncer';

/**
 * The processes of a pg_auto_failover formation (see failover.ts): initdb, pg_autoctl calls, the
 * monitor's tuning, and finding, signalling and waiting out daemons and their children.
 */
const INITDB = '/usr/lib/postgresql/15/bin/initdb';
const _POLL_MS = 100;
const STOP_TIMEOUT_MS = 15_000;
const KILL_TIMEOUT_MS = 10_000;

export interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** Killed on purpose (`killPrimary`): its exit is no failure. */
  killed: boolean;
}

/** A new cluster (as `postgres` when root) whose Unix sockets go to `sockets`. */
export async function initdb(pgdata: string, sockets: string, asPostgres: boolean): Promise<void> {
  const argv = [INITDB, '-D', pgdata, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'];
  const child = asPostgres
    ? spawn('runuser', ['-u', 'postgres', '--', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`initdb ${pgdata} exited ${code}: ${stderr.trim()}`);
  appendFileSync(join(pgdata, 'postgresql.conf'), `unix_socket_directories = '${sockets}'\n`);
}

/** Starts `pg_autoctl args` as the `postgres` user; output to `<logName>.log`, or piped without one. */
export type Run = (args: string[], logName?: string) => ChildProcess;

/** `pg_autoctl show state --json`, parsed; undefined while the monitor cannot answer. */
export async function showState(run: Run, monitorPgdata: string): Promise<NodeState[] | undefined> {
  const out = await pgAutoctl(run, ['show', 'state', '--json', '--pgdata', monitorPgdata]).catch(
    () => undefined,
  );
  if (out === undefined) return undefined;
  const rows = JSON.parse(out) as {
    nodename: string;
    nodeport: number;
    current_group_state: string;
    assigned_group_state: string;
    health: number;
  }[];
  return rows.map((r) => ({
    name: r.nodename,
    port: r.nodeport,
    reported: r.current_group_state,
    assigned: r.assigned_group_state,
    healthy: r.health === 1,
  }));
}

/** Runs one pg_autoctl command to completion; resolves with its stdout, rejects (with stderr) on failure. */
export function pgAutoctl(run: Run, args: string[]): Promise<string> {
  const child = run(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.once('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(
            new Error(`pg_autoctl ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').at(-1)}`),
          ),
    );
  });
}

export async function tuneMonitor(port: number): Promise<void> {
  // ALTER SYSTEM needs a superuser: the monitor's `postgres`, trusted on loopback.
  await withSql(`postgres://postgres@127.0.0.1:${port}/pg_auto_failover`, async (sql) => {
    for (const [name, value] of Object.entries(MONITOR_SETTINGS))
      await sql.unsafe(`alter system set ${name} = ${Number(value)}`);
    await sql`select pg_reload_conf()`;
  });
}

export async function withSql<T>(url: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
  try {
    return await use(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** SIGKILLs a daemon's whole process tree at once (keeper, postmaster, backends); resolves when gone. */
export async function killDaemon(daemon: Daemon): Promise<number> {
  const pids = [daemon.child.pid!, ...descendantsOf(daemon.child.pid!)];
  daemon.killed = true;
  const killedAt = Date.now();
  for (const pid of pids) signal(pid, 'SIGKILL');
  await daemon.exited;
  await waitGone(pids, KILL_TIMEOUT_MS);
  return killedAt;
}

/** SIGTERM to the daemon's group (pg_autoctl stops its PostgreSQL, fast mode); SIGKILL past a bound. */
export async function stopDaemon(daemon: Daemon): Promise<void> {
  const pids = [daemon.child.pid!, ...descendantsOf(daemon.child.pid!)];
  if (daemon.child.exitCode === null && daemon.child.signalCode === null)
    signal(-daemon.child.pid!, 'SIGTERM');
  const stopped = await waitGone(pids, STOP_TIMEOUT_MS);
  if (!stopped) for (const pid of [...pids, ...pids.flatMap(descendantsOf)]) signal(pid, 'SIGKILL');
  // The supervisor may have restarted a service after `pids` was taken: sweep the group too.
  signal(-daemon.child.pid!, 'SIGKILL');
  await waitGone(pids, KILL_TIMEOUT_MS);
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Whether every pid is gone (or a zombie) within `timeoutMs`. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    return statOf(pid).state !== 'Z';
  } catch {
    return false;
  }
}

/** `/proc/<pid>/stat`: state and parent (the fields after the parenthesized command name). */
export function statOf(pid: number): { state: string; ppid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state!, ppid: Number(ppid) };
}

/**
 * Every live descendant of `root` (PostgreSQL's backends put themselves in their own sessions, so a
 * process-group signal misses them).
 */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const { ppid } = statOf(pid);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // Exited while listing.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** As root, the `postgres` OS user that runs every daemon (PostgreSQL refuses root); else none. */
export async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all(['-u', '-g'].map((flag) => idOf('postgres', flag)));
  return { uid: uid!, gid: gid! };
}

/** `count` distinct free loopback ports (all held open at once, so none repeats). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
