/**
 * Processes, via /proc (Linux); other platforms fall back to kill(pid, 0). Includes reclaiming a data
 * directory from a server whose owner died.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { OWNER_ENV } from './constants';
import { errCode, waitFor } from './util';

type ProcState = 'running' | 'dead';

async function procState(pid: number): Promise<ProcState> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ..." — comm may contain spaces and parentheses
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X' || state === 'x' ? 'dead' : 'running';
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ESRCH') return 'dead';
  }
  try {
    process.kill(pid, 0);
    return 'running';
  } catch (err) {
    return errCode(err) === 'EPERM' ? 'running' : 'dead';
  }
}

async function procPpid(pid: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

async function procCwd(pid: number): Promise<string | undefined> {
  try {
    return await fs.readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

async function procComm(pid: number): Promise<string | undefined> {
  try {
    return (await fs.readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function procOwnerEnv(pid: number): Promise<number | undefined> {
  try {
    const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8');
    const entry = environ.split('\0').find((e) => e.startsWith(`${OWNER_ENV}=`));
    const owner = entry ? Number(entry.slice(OWNER_ENV.length + 1)) : Number.NaN;
    return Number.isInteger(owner) && owner > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

export function isAlivePid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

/** `postgres` processes whose working directory is `dir`: a postmaster and its backends chdir there. */
async function processesIn(dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  const found: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      if ((await procCwd(pid)) !== dir || (await procComm(pid)) !== 'postgres') return;
      if ((await procState(pid)) === 'running') found.push(pid);
    }),
  );
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (errCode(err) === 'EPERM') {
      throw new Error(`not permitted to signal process ${pid} (owned by another user)`);
    }
    // ESRCH: already gone
  }
}

/** SIGINT (fast shutdown), then SIGQUIT (immediate), then SIGKILL, each with a deadline. */
async function terminatePid(pid: number): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [sig, timeout] of steps) {
    if ((await procState(pid)) === 'dead') return;
    signal(pid, sig);
    if (await waitFor(async () => (await procState(pid)) === 'dead', timeout)) return;
  }
  throw new Error(`process ${pid} did not exit after SIGINT, SIGQUIT and SIGKILL`);
}

/**
 * Makes a data directory startable after its previous owner died: stops a postmaster still running
 * there (unless the process that started it is alive: then it is in use and this throws), kills
 * orphaned backends of a dead postmaster, and removes a stale postmaster.pid.
 */
export async function reclaimDataDir(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return;
    throw err;
  }
  const realDir = await fs.realpath(dir);
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await procState(pid)) === 'running') {
    const cwd = await procCwd(pid);
    const comm = await procComm(pid);
    // a recycled pid is some other process; cwd unreadable (another user's process): go by its name
    if (cwd === realDir || (cwd === undefined && (comm === undefined || comm === 'postgres'))) {
      const owner = await procOwnerEnv(pid);
      if (owner !== undefined && (await procPpid(pid)) === owner) {
        throw new Error(
          owner === process.pid
            ? `a PostgreSQL server started by this process is already running on ${dir}`
            : `the PostgreSQL cluster in ${dir} is in use by a server that process ${owner} started and still runs; stop that process first`,
        );
      }
      await terminatePid(pid);
    }
  }
  // Backends whose postmaster died hard keep running until they notice; kill them so that no two sets
  // of processes ever work on the same files, then the pid file is safe to remove.
  for (const straggler of await processesIn(realDir)) {
    signal(straggler, 'SIGKILL');
  }
  const gone = await waitFor(async () => (await processesIn(realDir)).length === 0, 5_000);
  if (!gone) throw new Error(`processes of an old PostgreSQL server still run in ${dir}`);
  await fs.rm(pidFile, { force: true });
}
