/** Reclaiming a data directory from a server, or the remains of one, whose owner died. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { liveOwner, pidFilePid, procComm, procCwd, processesIn, procState, signal } from './proc';
import { stopServer } from './server';
import type { Context } from './tools';
import { waitFor } from './util';

const STRAGGLERS_EXIT_MS = 5_000;

/**
 * Makes a data directory startable after its previous owner died: stops a postmaster still running
 * there (unless the process that started it is alive: then it is in use and this throws), kills
 * orphaned backends of a dead postmaster, and removes a stale postmaster.pid.
 *
 * Neither `pg_ctl status` nor `pg_ctl stop` can make the first decision: they take any live process of
 * the same user with the pid in postmaster.pid for the server, so a recycled pid would get signalled.
 */
export async function reclaimDataDir(ctx: Context, dir: string): Promise<void> {
  const pid = await pidFilePid(dir);
  if (pid === undefined) return;
  const realDir = await fs.realpath(dir);
  if (pid > 0 && pid !== process.pid && (await procState(pid)) === 'running') {
    const cwd = await procCwd(pid);
    const comm = await procComm(pid);
    // a recycled pid is some other process; cwd unreadable (another user's process): go by its name
    if (cwd === realDir || (cwd === undefined && (comm === undefined || comm === 'postgres'))) {
      const owner = await liveOwner(pid);
      if (owner !== undefined) {
        throw new Error(
          owner === process.pid
            ? `a PostgreSQL server started by this process is already running on ${dir}`
            : `the PostgreSQL cluster in ${dir} is in use by a server that process ${owner} started and still runs; stop that process first`,
        );
      }
      await stopServer(ctx, dir, pid);
    }
  }
  // Backends whose postmaster died hard keep running until they notice; kill them so that no two sets
  // of processes ever work on the same files, then the pid file is safe to remove.
  for (const straggler of await processesIn(realDir)) {
    signal(straggler, 'SIGKILL');
  }
  const gone = await waitFor(async () => (await processesIn(realDir)).length === 0, STRAGGLERS_EXIT_MS);
  if (!gone) throw new Error(`processes of an old PostgreSQL server still run in ${dir}`);
  await fs.rm(path.join(dir, 'postmaster.pid'), { force: true });
}
