/**
 * Where a cluster lives: the requested directory, or (as root, when the postgres OS user cannot reach it)
 * /var/lib/chargeonce/<hash> for a persistent cluster or the tmp cache for an ephemeral one; plus the
 * sweeps that remove such clusters once abandoned.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateishDir, nearestExisting } from './files';
import { canReach } from './os-user';
import { isAlivePid } from './proc';
import { reclaimDataDir } from './reclaim';
import type { Context } from './tools';
import { exists, randomSuffix } from './util';

/** Written in the requested dataDir when the cluster had to be kept elsewhere. */
const LOCATION_FILE = 'LOCATION.txt';
/** Persistent clusters whose requested dataDir the postgres OS user cannot reach live under here. */
const RELOCATED_ROOT = '/var/lib/chargeonce';

/** Ephemeral clusters that cannot live at the requested path live in <cache>/clusters/<ownerpid>-<random>. */
async function removeOrphanedEphemeralClusters(ctx: Context, clustersDir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(clustersDir);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = Number.parseInt(name, 10);
    if (!Number.isInteger(owner) || owner === process.pid || isAlivePid(owner)) continue;
    const dir = path.join(clustersDir, name);
    try {
      await reclaimDataDir(ctx, dir);
      await fs.rm(dir, { recursive: true, force: true });
    } catch {
      // best effort: another process may be cleaning it up at the same time
    }
  }
}

export const SOURCE_SUFFIX = '.source';
const ABANDONED_AFTER_MS = 10 * 60_000;
let relocatedSwept = false;

/**
 * Relocated persistent clusters whose requested directory is gone (deleted, e.g. a test's temp dir) would
 * pile up in /var/lib/chargeonce: each has a `<hash>.source` sidecar naming its requested directory, and
 * once that has had no LOCATION.txt for a while (no start has touched the sidecar for 10 minutes), the
 * cluster is shut down if an orphaned server still runs it, and removed. Once per process.
 */
async function removeAbandonedRelocated(ctx: Context): Promise<void> {
  if (relocatedSwept) return;
  relocatedSwept = true;
  let names: string[];
  try {
    names = await fs.readdir(RELOCATED_ROOT);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith(SOURCE_SUFFIX)) continue;
    const sidecar = path.join(RELOCATED_ROOT, name);
    const cluster = sidecar.slice(0, -SOURCE_SUFFIX.length);
    try {
      const st = await fs.stat(sidecar);
      if (Date.now() - st.mtimeMs < ABANDONED_AFTER_MS) continue;
      const requested = (await fs.readFile(sidecar, 'utf8')).trim();
      if (!requested || (await exists(path.join(requested, LOCATION_FILE)))) continue;
      if (await exists(cluster)) await reclaimDataDir(ctx, cluster); // throws if a live process still uses it
      await fs.rm(cluster, { recursive: true, force: true });
      await fs.rm(sidecar, { force: true });
    } catch {
      // in use, or being handled by another process: leave it
    }
  }
}

export interface Placement {
  /** Where the cluster lives. */
  dir: string;
  /** For a persistent cluster kept away from the requested dir: the pointer file to keep there. */
  locationFile?: string;
}

export async function placeCluster(ctx: Context, requested: string, persistent: boolean): Promise<Placement> {
  const { runAs } = ctx;
  if (!runAs) return { dir: requested };
  const locationFile = path.join(requested, LOCATION_FILE);
  const relocatedPersistent = (): Placement => ({
    dir: path.join(RELOCATED_ROOT, createHash('sha256').update(requested).digest('hex').slice(0, 16)),
    locationFile,
  });
  await removeAbandonedRelocated(ctx);
  if (persistent && (await exists(locationFile))) return relocatedPersistent();
  if (await canReach(await nearestExisting(path.dirname(requested)), runAs, 0o1)) return { dir: requested };
  if (persistent) return relocatedPersistent();
  const clustersDir = path.join(ctx.cacheBase, 'clusters');
  await ensurePrivateishDir(clustersDir, 0o755);
  await removeOrphanedEphemeralClusters(ctx, clustersDir);
  return { dir: path.join(clustersDir, `${process.pid}-${randomSuffix()}`) };
}
