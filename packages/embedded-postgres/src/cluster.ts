/**
 * Making a cluster ready to start: initdb (persistent) or a copy of the cached template (ephemeral), built
 * aside and renamed into place; reuse of an existing one after reclaiming it from a dead owner.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DATABASE, PG_PASSWORD, PG_USER } from './constants';
import { chownTree, copyTree, makeDirs } from './files';
import { type Placement, SOURCE_SUFFIX } from './placement';
import { isAlivePid } from './proc';
import { reclaimDataDir } from './reclaim';
import { type Context, runTool } from './tools';
import { errCode, exists, quoteIdent, randomSuffix } from './util';

/** Bump when the way the ephemeral template cluster is made changes. */
const TEMPLATE_FORMAT = 3;

/** Runs initdb into `dir` (which must not exist yet). */
async function initdb(ctx: Context, dir: string, ephemeral: boolean): Promise<void> {
  await fs.mkdir(dir, { mode: 0o700 });
  if (ctx.runAs) await fs.chown(dir, ctx.runAs.uid, ctx.runAs.gid);
  const pwfile = path.join(ctx.cacheBase, `pwfile-${process.pid}-${randomSuffix()}`);
  await fs.writeFile(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  try {
    if (ctx.runAs) await fs.chown(pwfile, ctx.runAs.uid, ctx.runAs.gid);
    await runTool(ctx, 'initdb', [
      '-D',
      dir,
      '-U',
      PG_USER,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-instructions',
      // ephemeral: no fsync; 1 MB WAL segments instead of 16 MB make the template quicker to copy
      ...(ephemeral ? ['--no-sync', '--wal-segsize=1'] : []),
    ]);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

const templates = new Map<string, Promise<string>>();

/**
 * A freshly initdb'd cluster, with the default database already in it, kept in the cache: copying it
 * (~0.1 s) is much faster than initdb plus CREATE DATABASE (~1 s).
 */
function ensureTemplate(ctx: Context): Promise<string> {
  const owner = ctx.runAs?.uid ?? process.getuid?.() ?? 0;
  const dest = path.join(ctx.cacheBase, `template-v${TEMPLATE_FORMAT}-owner${owner}`);
  let pending = templates.get(dest);
  if (!pending) {
    pending = (async () => {
      const complete = async () =>
        (await exists(path.join(dest, 'global', 'pg_control'))) &&
        (await exists(path.join(dest, 'PG_VERSION'))) &&
        !(await exists(path.join(dest, 'postmaster.pid')));
      if (await complete()) return dest;
      if (await exists(dest)) {
        const aside = `${dest}.old-${process.pid}-${randomSuffix()}`;
        await fs.rename(dest, aside).catch(() => undefined);
        await fs.rm(aside, { recursive: true, force: true });
      }
      const tmp = `${dest}.tmp-${process.pid}-${randomSuffix()}`;
      try {
        await initdb(ctx, tmp, true);
        // single-user mode: no server, no port; exits with a clean shutdown checkpoint
        await runTool(
          ctx,
          'postgres',
          ['--single', '-D', tmp, '-c', 'fsync=off', '-c', 'exit_on_error=on', 'postgres'],
          { input: `CREATE DATABASE ${quoteIdent(DEFAULT_DATABASE)};\n` },
        );
        await fs.rename(tmp, dest);
      } catch (err) {
        if (errCode(err) !== 'ENOTEMPTY' && errCode(err) !== 'EEXIST') throw err;
      } finally {
        await fs.rm(tmp, { recursive: true, force: true });
      }
      if (await complete()) return dest;
      throw new Error(`could not create the template cluster ${dest}`);
    })();
    templates.set(dest, pending);
    pending.catch(() => templates.delete(dest));
  }
  return pending;
}

/** Removes `<base>.init-<pid>-*` build directories next to `dir` left by processes that died. */
async function removeDeadBuilds(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.init-`;
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlivePid(pid)) {
      await fs.rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** Builds a cluster next to `dir` and renames it into place, so a crash never leaves a half-made cluster. */
async function createCluster(ctx: Context, dir: string, persistent: boolean): Promise<void> {
  await removeDeadBuilds(dir);
  const tmp = `${dir}.init-${process.pid}-${randomSuffix()}`;
  try {
    if (persistent) {
      await initdb(ctx, tmp, false);
    } else {
      await copyTree(await ensureTemplate(ctx), tmp);
      if (ctx.runAs) {
        const st = await fs.stat(tmp);
        if (st.uid !== ctx.runAs.uid) await chownTree(tmp, ctx.runAs);
      }
    }
    if (await exists(dir)) await fs.rmdir(dir); // only ever an empty directory at this point
    await fs.rename(tmp, dir);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function isCluster(dir: string): Promise<boolean> {
  return exists(path.join(dir, 'PG_VERSION'));
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await fs.readdir(dir)).length === 0;
}

/** Gets the data directory ready to start: reclaimed from a dead owner, created, owned by the right user. */
export async function prepareCluster(ctx: Context, place: Placement, requested: string, persistent: boolean) {
  const { dir } = place;
  await makeDirs(path.dirname(dir), ctx.runAs);
  if (await exists(dir)) await reclaimDataDir(ctx, dir);

  if (place.locationFile) {
    // first (re)write the sidecar, which keeps the sweep below off this cluster for a while
    await fs.writeFile(`${dir}${SOURCE_SUFFIX}`, `${requested}\n`);
    const hadPointer = await exists(place.locationFile);
    if (!hadPointer && (await exists(dir))) {
      // the requested directory was deleted to reset the database: drop the cluster it pointed to
      await fs.rm(dir, { recursive: true, force: true });
    }
    await makeDirs(requested, ctx.runAs);
    await fs.writeFile(
      place.locationFile,
      `${dir}\n\nThe PostgreSQL cluster for ${requested} lives in the directory above, because the OS user ` +
        `"${ctx.runAs?.name}" cannot reach ${requested}. Delete ${requested} to reset the database.\n`,
    );
  }

  if (!persistent && (await exists(dir))) {
    if (!(await isCluster(dir)) && !(await isEmptyDir(dir))) {
      throw new Error(`dataDir ${dir} exists, is not empty and is not a PostgreSQL data directory`);
    }
    await fs.rm(dir, { recursive: true, force: true });
  }

  if (await isCluster(dir)) {
    const major = (await fs.readFile(path.join(dir, 'PG_VERSION'), 'utf8')).trim();
    if (major !== ctx.majorVersion) {
      throw new Error(
        `the cluster in ${dir} was made by PostgreSQL ${major}, but the embedded server is ${ctx.majorVersion}; ` +
          'dump and restore it, or delete it to start afresh',
      );
    }
    const st = await fs.stat(dir);
    if (ctx.runAs && st.uid !== ctx.runAs.uid) await chownTree(dir, ctx.runAs);
    // PostgreSQL insists on 0700 or 0750
    if ((st.mode & 0o027) !== 0) await fs.chmod(dir, 0o700).catch(() => undefined);
    return;
  }
  if ((await exists(dir)) && !(await isEmptyDir(dir))) {
    throw new Error(`dataDir ${dir} exists, is not empty and is not a PostgreSQL data directory`);
  }
  await createCluster(ctx, dir, persistent);
}
