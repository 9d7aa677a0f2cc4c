/** The OS user that runs PostgreSQL when we are root, and what it is permitted to reach. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errMessage, execFileText, waitFor } from './util';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileText('id', ['-u', name]),
      execFileText('id', ['-g', name]),
    ]);
    return { name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    return undefined;
  }
}

let osUserPromise: Promise<RunAs> | undefined;

/** As root: the OS user that runs PostgreSQL, created when missing. */
export function ensureOsUser(): Promise<RunAs> {
  osUserPromise ??= findOrCreateOsUser();
  osUserPromise.catch(() => {
    osUserPromise = undefined;
  });
  return osUserPromise;
}

async function findOrCreateOsUser(): Promise<RunAs> {
  const name = process.env.CHARGEONCE_PG_OS_USER || 'postgres';
  const found = await lookupUser(name);
  if (found) return found;
  let groupExists = true;
  try {
    await execFileText('getent', ['group', name]);
  } catch {
    groupExists = false;
  }
  const args = ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin'];
  args.push(...(groupExists ? ['--gid', name] : ['--user-group']), name);
  let failure: unknown;
  try {
    await execFileText('useradd', args);
  } catch (err) {
    failure = err; // maybe another process created it at the same time: look again
  }
  let created: RunAs | undefined;
  await waitFor(async () => {
    created = await lookupUser(name);
    return created !== undefined;
  }, 2_000);
  if (created) return created;
  throw new Error(
    `PostgreSQL cannot run as root and the OS user "${name}" does not exist and could not be created` +
      (failure ? `: ${errMessage(failure)}` : ''),
  );
}

/** Whether `who` has all of `bits` (0o4 r, 0o2 w, 0o1 x) on a file with this stat. */
function permits(st: { uid: number; gid: number; mode: number }, who: RunAs, bits: number): boolean {
  if (st.uid === who.uid) return ((st.mode >> 6) & bits) === bits;
  if (st.gid === who.gid) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

/** Whether `who` can traverse every directory down to `target` and has `bits` on `target` itself. */
export async function canReach(target: string, who: RunAs, bits: number): Promise<boolean> {
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch {
    return false;
  }
  if (!permits(await fs.stat(real), who, bits)) return false;
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    if (!permits(await fs.stat(dir), who, 0o1)) return false;
    if (dir === path.dirname(dir)) return true;
  }
}
