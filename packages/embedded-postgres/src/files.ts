/** Directory and file-tree helpers (mkdir -p, owned/private directories, chown -R, cp -a, tree comparison). */
import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RunAs } from './os-user';
import { errCode, execFileText, exists } from './util';

export async function nearestExisting(p: string): Promise<string> {
  let dir = p;
  while (!(await exists(dir)) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

/** mkdir -p; as root the directories created are made 0755 (whatever the umask) so the postgres user can pass. */
export async function makeDirs(dir: string, runAs: RunAs | null): Promise<void> {
  if (!runAs) {
    await fs.mkdir(dir, { recursive: true });
    return;
  }
  const missing: string[] = [];
  for (let d = dir; !(await exists(d)) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      await fs.mkdir(d);
      await fs.chmod(d, 0o755);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err;
    }
  }
}

/** A directory of ours, not writable by others (it holds binaries we run and clusters we start). */
export async function ensurePrivateishDir(dir: string, mode: number): Promise<void> {
  try {
    await fs.mkdir(dir, { mode });
    await fs.chmod(dir, mode);
    return;
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
  }
  const st = await fs.lstat(dir);
  const myUid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== myUid || (st.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} exists but is not a directory owned by uid ${myUid} and writable only by it; remove it and retry`,
    );
  }
  if ((st.mode & 0o777) !== mode) await fs.chmod(dir, mode);
}

export async function chownTree(dir: string, who: RunAs): Promise<void> {
  await fs.lchown(dir, who.uid, who.gid);
  const entries = await fs.readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await chownTree(p, who);
      else await fs.lchown(p, who.uid, who.gid);
    }),
  );
}

/** cp -a (fast, keeps symlinks, modes and — as root — owners); fs.cp where there is no cp. */
export async function copyTree(src: string, dest: string): Promise<void> {
  try {
    await execFileText('cp', ['-a', src, dest]);
  } catch (err) {
    await fs.rm(dest, { recursive: true, force: true });
    try {
      await fs.cp(src, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    } catch {
      throw err;
    }
  }
}

/**
 * Whether dest holds the same files as src (sizes and execute bits, every directory and file present): a
 * copy can be half-cleaned by tmp reapers. Symlinks are followed on both sides, so a library alias such as
 * lib/libpq.so -> libpq.so.5.17 matches a plain file with the same content: the platform package's
 * postinstall makes those aliases as symlinks, but pnpm restores them as plain (hard-linked) files when it
 * takes the package from its side-effects cache instead of running the postinstall, and two checkouts
 * installed either way must not keep replacing the shared copy that the other one runs from.
 */
export async function sameTree(src: string, dest: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(src, { withFileTypes: true });
  } catch {
    return false;
  }
  const results = await Promise.all(
    entries.map(async (entry) => {
      const s = path.join(src, entry.name);
      const d = path.join(dest, entry.name);
      try {
        let ss: Stats;
        try {
          ss = await fs.stat(s);
        } catch (err) {
          // a dangling symlink in the source: the copy must have the same one
          if (entry.isSymbolicLink() && errCode(err) === 'ENOENT')
            return (await fs.readlink(s)) === (await fs.readlink(d));
          throw err;
        }
        const ds = await fs.stat(d);
        if (ss.isDirectory()) return ds.isDirectory() && (await sameTree(s, d));
        return ds.isFile() && ss.size === ds.size && (ss.mode & 0o111) === (ds.mode & 0o111);
      } catch {
        return false;
      }
    }),
  );
  return results.every(Boolean);
}
