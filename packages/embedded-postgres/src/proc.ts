/** Processes, via /proc (Linux); other platforms fall back to kill(pid, 0). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { OWNER_ENV } from './constants';
import { errCode } from './util';

type ProcState = 'running' | 'dead';

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead)... */
  state: string;
  /** Clock ticks after boot: with the pid, identifies one process (pids are reused). */
  startTicks: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid pgrp ... starttime(22nd field) ..." — comm may contain spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTicks: Number(fields[19]) };
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ESRCH') return { state: 'X', startTicks: Number.NaN };
    return undefined; // no /proc
  }
}

/** A zombie (exited, not yet reaped by its parent, e.g. a slow init) counts as dead. */
export async function procState(pid: number): Promise<ProcState> {
  const stat = await procStat(pid);
  if (stat) return stat.state === 'Z' || stat.state === 'X' || stat.state === 'x' ? 'dead' : 'running';
  return isAlivePid(pid) ? 'running' : 'dead';
}

export async function procCwd(pid: number): Promise<string | undefined> {
  try {
    return await fs.readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export async function procComm(pid: number): Promise<string | undefined> {
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

/**
 * The process that started postmaster `pid` (named in the server's environment), if it still runs. pg_ctl
 * daemonizes the postmaster, so it is never that process's child; instead: a process that reused the
 * owner's pid after the owner died was started after the server was, while the real owner started before.
 * Undefined when it cannot be told (no /proc): the server is then treated as orphaned.
 */
export async function liveOwner(pid: number): Promise<number | undefined> {
  const owner = await procOwnerEnv(pid);
  if (owner === undefined || (await procState(owner)) === 'dead') return undefined;
  const [ownerStat, serverStat] = await Promise.all([procStat(owner), procStat(pid)]);
  const ownerStart = ownerStat?.startTicks ?? Number.NaN;
  const serverStart = serverStat?.startTicks ?? Number.NaN;
  return ownerStart <= serverStart ? owner : undefined;
}

/** The pid on the first line of `dir`/postmaster.pid: undefined without that file, 0 when it is unusable. */
export async function pidFilePid(dir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : 0; // a single-user server writes -pid
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
export async function processesIn(dir: string): Promise<number[]> {
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

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (errCode(err) === 'EPERM') {
      throw new Error(`not permitted to signal process ${pid} (owned by another user)`);
    }
    // ESRCH: already gone
  }
}
