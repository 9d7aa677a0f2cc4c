import { spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Daemon,
  freePorts,
  initdb,
  killDaemon,
  pgAutoctl,
  postgresOwner,
  type Run,
  showState,
  stopDaemon,
  tuneMonitor,
  withSql,
} from './failover-processes';

/** Debian's pg_auto_failover 2.0 (`apt-get install postgresql-15-auto-failover`, as `.ci/run` does). */
export const PG_AUTOCTL = '/usr/bin/pg_autoctl';
/** The PostgreSQL that package is built for (Debian's 15). */
export const PG_CTL = '/usr/lib/postgresql/15/bin/pg_ctl';

/** One node as the monitor reports it (`pg_autoctl show state --json`). */
export interface NodeState {
  name: string;
  port: number;
  /** The state the node's keeper last reported (`primary`, `secondary`, `wait_primary`, ...). */
  reported: string;
  /** The state the monitor assigned it. */
  assigned: string;
  /** The monitor's health check reaches it. */
  healthy: boolean;
}

export interface FailoverFormation {
  /** Every node, `target_session_attrs=read-write`: postgres.js connects to whichever is the primary. */
  url: string;
  /** Each node's own URL, by node name. */
  nodeUrls: Record<string, string>;
  /** Where the monitor, the nodes and their logs live (removed by `stop`). */
  dir: string;
  state(): Promise<NodeState[]>;
  /**
   * A machine failure of the current primary: SIGKILL of its pg_autoctl keeper (supervisor and
   * services), its postmaster and every backend at once, so nothing shuts down cleanly. Resolves once
   * they are gone, with the node's name and when (`Date.now()`) the kill was sent.
   */
  killPrimary(): Promise<{ node: string; killedAt: number }>;
  /**
   * Waits until a node other than `failed` is the primary (`wait_primary` — alone — or `primary`,
   * reported and assigned) and resolves with it and when (`Date.now()`) that was first seen.
   */
  waitForPromotion(failed: string, timeoutMs?: number): Promise<{ node: string; promotedAt: number }>;
  /** Stops every daemon (SIGTERM, then SIGKILL past a bound) and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

export interface FormationOptions {
  /** The database and its owner (a superuser, trusted on 127.0.0.1), created on the primary. */
  database?: string;
  user?: string;
  /** Bound on bringing the whole formation up. */
  startTimeoutMs?: number;
}

/**
 * How fast the monitor declares a primary dead and promotes its standby. pg_auto_failover's defaults
 * (5 s health checks, 20 s unhealthy timeout, 30 s demote timeout: a failover in ~50 s) are tuned
 * down so a test sees one in ~10 s. The keepers' `network_partition_timeout` (a primary cut off from
 * the monitor and its standby demotes itself after it) stays below the monitor's demote timeout,
 * which is what makes promoting the standby safe while the old primary might still be running.
 */
export const MONITOR_SETTINGS: Record<string, number> = {
  'pgautofailover.health_check_period': 1_000,
  'pgautofailover.health_check_timeout': 1_000,
  'pgautofailover.health_check_max_retries': 1,
  'pgautofailover.health_check_retry_delay': 500,
  'pgautofailover.node_considered_unhealthy_timeout': 3_000,
  'pgautofailover.primary_demote_timeout': 5_000,
  'pgautofailover.startup_grace_period': 1_000,
};
const NETWORK_PARTITION_TIMEOUT_S = 3;

const POLL_MS = 100;

/**
 * A pg_auto_failover formation on loopback: a monitor, a primary and a synchronous standby (one
 * standby with `replication_quorum` on: the primary commits only once the standby has the WAL), each
 * a real Debian PostgreSQL 15 run by `pg_autoctl` as the `postgres` OS user (PostgreSQL refuses
 * root), in a temp dir owned by that user. Resolves once the primary is `primary` and the standby
 * `secondary`.
 */
export async function startFormation(options: FormationOptions = {}): Promise<FailoverFormation> {
  if (!existsSync(PG_AUTOCTL))
    throw new Error(`${PG_AUTOCTL} is missing: apt-get install postgresql-15-auto-failover (.ci/run does)`);
  const database = options.database ?? 'chargeonce';
  const user = options.user ?? 'chargeonce';
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  const dir = mkdtempSync(join(tmpdir(), 'chargeonce-failover-'));
  const owner = await postgresOwner();
  const sockets = join(dir, 'sockets');
  // pg_autoctl keeps its config, state and pid files under the XDG dirs: here, not in ~postgres.
  for (const sub of ['config', 'data', 'run', 'sockets']) mkdirSync(join(dir, sub));
  if (owner)
    for (const sub of ['', 'config', 'data', 'run', 'sockets'])
      chownSync(join(dir, sub), owner.uid, owner.gid);
  const env = [
    `XDG_CONFIG_HOME=${join(dir, 'config')}`,
    `XDG_DATA_HOME=${join(dir, 'data')}`,
    `XDG_RUNTIME_DIR=${join(dir, 'run')}`,
    // pg_autoctl's own connections to its local PostgreSQL go through the socket dir set below.
    `PGHOST=${sockets}`,
  ];
  const [monitorPort, ...nodePorts] = await freePorts(3);
  const monitorUrl = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;
  const nodeNames = ['node1', 'node2'];
  const nodeUrls: Record<string, string> = {};
  nodeNames.forEach((name, i) => {
    nodeUrls[name] = `postgres://${user}@127.0.0.1:${nodePorts[i]}/${database}`;
  });
  const hosts = nodePorts.map((p) => `127.0.0.1:${p}`).join(',');
  const url = `postgres://${user}@${hosts}/${database}?target_session_attrs=read-write`;
  const daemons: Daemon[] = [];

  const run: Run = (args, logName) => {
    const log = logName ? openSync(join(dir, `${logName}.log`), 'a') : 'pipe';
    const argv = ['env', ...env, PG_AUTOCTL, ...args];
    // Its own process group: stop() signals the keeper's whole tree at once.
    const options = { stdio: ['ignore', log, log] as ('ignore' | 'pipe' | number)[], detached: true };
    const child = owner
      ? spawn('runuser', ['-u', 'postgres', '--', ...argv], options)
      : spawn(argv[0]!, argv.slice(1), options);
    if (typeof log === 'number') closeSync(log);
    return child;
  };
  // The dir goes with stop(): errors carry the end of the logs.
  const logTail = (name: string, lines = 15) => {
    const text = existsSync(join(dir, `${name}.log`)) ? readFileSync(join(dir, `${name}.log`), 'utf8') : '';
    return `--- ${name}.log\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
  };
  const startDaemon = (name: string, args: string[]) => {
    const child = run(args, name);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    daemons.push({ name, child, exited, killed: false });
  };
  const state = () => showState(run, join(dir, 'monitor'));
  const until = async <T>(what: string, check: () => Promise<T | undefined>, by = deadline): Promise<T> => {
    for (;;) {
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      const dead = daemons.find(
        (d) => !d.killed && (d.child.exitCode !== null || d.child.signalCode !== null),
      );
      if (dead)
        throw new Error(`pg_autoctl ${dead.name} exited while waiting for ${what}:\n${logTail(dead.name)}`);
      if (Date.now() > by)
        throw new Error(`timed out waiting for ${what}:\n${daemons.map((d) => logTail(d.name)).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const common = ['--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--pgctl', PG_CTL];

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      // Nodes first (a keeper whose monitor is gone retries it), then the monitor.
      for (const group of [
        daemons.filter((d) => d.name !== 'monitor'),
        daemons.filter((d) => d.name === 'monitor'),
      ])
        await Promise.all(group.map(stopDaemon));
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    // Initialized here rather than by pg_autoctl, to keep the Unix sockets in `dir`: Debian's build
    // puts them in /var/run/postgresql, which a fresh container may lack (and which killed nodes
    // litter). The standby is a pg_basebackup of node1, settings included.
    for (const name of ['monitor', 'node1']) await initdb(join(dir, name), sockets, owner !== undefined);
    // `create monitor` has no --listen: created, bound to loopback, then run.
    await pgAutoctl(run, [
      'create',
      'monitor',
      '--pgdata',
      join(dir, 'monitor'),
      '--pgport',
      String(monitorPort),
      ...common,
    ]);
    await pgAutoctl(run, [
      'config',
      'set',
      '--pgdata',
      join(dir, 'monitor'),
      'postgresql.listen_addresses',
      '127.0.0.1',
    ]);
    startDaemon('monitor', ['run', '--pgdata', join(dir, 'monitor')]);
    await until('the monitor', async () => ((await state()) ? true : undefined));
    await tuneMonitor(monitorPort!);
    for (const [i, name] of nodeNames.entries()) {
      startDaemon(name, [
        'create',
        'postgres',
        '--pgdata',
        join(dir, name),
        '--pgport',
        String(nodePorts[i]),
        '--pghost',
        sockets,
        '--listen',
        '127.0.0.1',
        '--name',
        name,
        '--dbname',
        database,
        '--username',
        user,
        '--monitor',
        monitorUrl,
        ...common,
        '--run',
      ]);
      if (i === 0)
        await until(`${name} to be single`, async () =>
          (await state())?.some((n) => n.name === name && n.reported === 'single' && n.assigned === 'single')
            ? true
            : undefined,
        );
    }
    await until('node1 primary, node2 secondary', async () => {
      const nodes = await state();
      const of = (name: string) => nodes?.find((n) => n.name === name);
      if (of('node1')?.reported === 'primary' && of('node2')?.reported === 'secondary') return true;
      // The standby's pg_basebackup waits for a checkpoint, which PostgreSQL spreads over up to
      // 4.5 minutes by default: request an immediate one (harmless when none is pending).
      if (of('node2')?.reported === 'wait_standby' || of('node2')?.reported === 'catchingup')
        await withSql(nodeUrls.node1!, (sql) => sql`checkpoint`);
      return undefined;
    });
    for (const name of nodeNames)
      await pgAutoctl(run, [
        'config',
        'set',
        '--pgdata',
        join(dir, name),
        'timeout.network_partition_timeout',
        String(NETWORK_PARTITION_TIMEOUT_S),
      ]);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    nodeUrls,
    dir,
    state: async () => (await state()) ?? [],
    async killPrimary() {
      const primary = (await state())?.find((n) => n.reported === 'primary');
      const daemon = daemons.find((d) => d.name === primary?.name);
      if (!primary || !daemon) throw new Error('no primary to kill');
      const killedAt = await killDaemon(daemon);
      return { node: primary.name, killedAt };
    },
    waitForPromotion: (failed, timeoutMs = 60_000) =>
      until(
        `a node other than ${failed} to be promoted`,
        async () => {
          const promoted = (await state())?.find(
            (n) =>
              n.name !== failed &&
              ['wait_primary', 'primary'].includes(n.reported) &&
              n.assigned === n.reported,
          );
          return promoted ? { node: promoted.name, promotedAt: Date.now() } : undefined;
        },
        Date.now() + timeoutMs,
      ),
    stop,
  };
}
