/**
 * The handle of a started server: stop it for good, or crash it, shut it down and start it again on
 * the same port and data directory (what a test of a database outage needs).
 */
import type { ChildProcess } from 'node:child_process';
import { startWatchdog, stopWatchdog, track } from './lifecycle';
import { reclaimDataDir } from './reclaim';
import {
  killServer,
  type LaunchOptions,
  launchServer,
  type ShutdownMode,
  StartError,
  stopServer,
} from './server';
import type { Context } from './tools';

/**
 * Its port can be briefly taken when the server comes back (by an outgoing connection's ephemeral
 * port, say): the start is tried this many times, this far apart, on the same port.
 */
const RESTART_ATTEMPTS = 10;
const RESTART_RETRY_MS = 200;

export type { ShutdownMode } from './server';

export interface EmbeddedPostgres {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  port: number;
  /** Where the cluster actually lives (differs from the requested dataDir when that is unreachable as root). */
  dataDir: string;
  /** The postmaster's pid; undefined while the server is down (after kill() or shutdown(), until start()). */
  readonly pid: number | undefined;
  /** Idempotent: stops the server (waiting for it to exit) and removes the cluster if not persistent. */
  stop(): Promise<void>;
  /**
   * Stops the server (`pg_ctl stop` in `mode`, default `fast`; `immediate` is a crash: the start replays
   * the WAL) and starts it again on the same port; resolves once it accepts connections.
   */
  restart(options?: { mode?: ShutdownMode }): Promise<void>;
  /** Stops the server in `mode` (default `fast`), keeping the cluster, until start(); no-op while down. */
  shutdown(options?: { mode?: ShutdownMode }): Promise<void>;
  /**
   * SIGKILLs the postmaster, as a crash would, and resolves once it has exited; the server stays down
   * until start(). No-op while down.
   */
  kill(): Promise<void>;
  /**
   * Starts a server that is down again, on the same port: backends a killed postmaster left are killed
   * first and its stale `postmaster.pid` removed. No-op while it runs.
   */
  start(): Promise<void>;
}

export interface HandleParams {
  ctx: Context;
  dir: string;
  port: number;
  url: string;
  launch: LaunchOptions;
  /** The postmaster that startEmbeddedPostgres launched. */
  pid: number;
  /** Removes the cluster when it is ephemeral. */
  removeCluster: () => Promise<void>;
}

/**
 * Operations run one at a time in call order (a kill() racing a start() gets a definite order). An
 * ephemeral server is watched by a watchdog (lifecycle.ts) while it runs; while it is down there is no
 * postmaster to watch, and only the exit hook removes its cluster if the owner goes away.
 */
export function serverHandle(params: HandleParams): EmbeddedPostgres {
  const { ctx, dir, port, launch } = params;
  const persistent = launch.persistent;
  let pid: number | undefined;
  let stopped = false;
  let untrack = () => {};
  let watchdog: ChildProcess | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;

  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const run = queue.then(op);
    queue = run.catch(() => undefined);
    return run;
  };
  const running = (next: number | undefined) => {
    pid = next;
    untrack();
    untrack = track({ pid, dir, persistent });
    if (!persistent && pid !== undefined) watchdog = startWatchdog(pid, dir);
  };
  const usable = (what: string) => {
    if (stopped) throw new Error(`embedded PostgreSQL on ${dir}: ${what} after stop()`);
  };
  const down = async (how: (pid: number) => Promise<void>) => {
    if (pid === undefined) return;
    await stopWatchdog(watchdog);
    watchdog = undefined;
    await how(pid);
    running(undefined);
  };
  const up = async () => {
    if (pid !== undefined) return;
    for (let attempt = 1; ; attempt++) {
      await reclaimDataDir(ctx, dir);
      try {
        running(await launchServer(ctx, dir, port, launch));
        return;
      } catch (err) {
        if (!(err instanceof StartError && err.portInUse && attempt < RESTART_ATTEMPTS)) throw err;
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_MS));
      }
    }
  };

  running(params.pid);
  return {
    url: params.url,
    port,
    dataDir: dir,
    get pid() {
      return pid;
    },
    stop() {
      stopping ??= serial(async () => {
        stopped = true;
        await stopWatchdog(watchdog);
        // down: a killed postmaster's backends may still be exiting; none may outlive the cluster
        if (pid === undefined) await reclaimDataDir(ctx, dir).catch(() => undefined);
        else await stopServer(ctx, dir, pid);
        pid = undefined;
        untrack();
        await params.removeCluster();
      });
      return stopping;
    },
    restart(options = {}) {
      return serial(async () => {
        usable('restart()');
        await down((was) => stopServer(ctx, dir, was, options.mode ?? 'fast'));
        await up();
      });
    },
    shutdown(options = {}) {
      return serial(async () => {
        usable('shutdown()');
        await down((was) => stopServer(ctx, dir, was, options.mode ?? 'fast'));
      });
    },
    kill() {
      return serial(async () => {
        usable('kill()');
        await down((was) => killServer(dir, was));
      });
    },
    start() {
      return serial(async () => {
        usable('start()');
        await up();
      });
    },
  };
}
