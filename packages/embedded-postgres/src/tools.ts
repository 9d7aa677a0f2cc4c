/** Running the PostgreSQL programs: environment, spawn options (as the postgres OS user when root), output. */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import path from 'node:path';
import { OWNER_ENV } from './constants';
import type { RunAs } from './os-user';
import { errMessage } from './util';

const TOOL_TIMEOUT_MS = 120_000;
const LOG_TAIL_LINES = 30;

export interface Context {
  runAs: RunAs | null;
  binDir: string;
  cacheBase: string;
  majorVersion: string;
}

/** Keeps the last lines of a process's output and forwards every line to onLog. */
export class LogTail {
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

export interface ToolOptions {
  /** Added to the environment, e.g. PGDATA for pg_ctl. */
  env?: Record<string, string>;
  /** Its own process group and session, so that a Ctrl-C at the terminal does not reach it. */
  detached?: boolean;
  /** Written to its stdin. */
  input?: string;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // PG* variables (PGDATA, PGPORT, PGOPTIONS, PGCTLTIMEOUT...) must not steer our initdb/pg_ctl/postgres
    if (!key.startsWith('PG')) env[key] = value;
  }
  env.LC_ALL = 'C';
  env.LANG = 'C';
  env.LC_MESSAGES = 'C';
  // inherited by the postmaster (pg_ctl passes its environment on): a later start reads it to tell
  // whether the server's owner still runs
  env[OWNER_ENV] = String(process.pid);
  return { ...env, ...extra };
}

export function spawnOptions(ctx: Context, options: ToolOptions = {}): SpawnOptions {
  return {
    cwd: '/',
    env: childEnv(options.env ?? {}),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
    ...(ctx.runAs ? { uid: ctx.runAs.uid, gid: ctx.runAs.gid } : {}),
  };
}

export function spawnFailure(what: string, ctx: Context, err: unknown): Error {
  const who = ctx.runAs ? ` as OS user "${ctx.runAs.name}"` : '';
  return new Error(`could not run ${what}${who}: ${errMessage(err)}`);
}

/** Runs one of the PostgreSQL programs to completion; rejects with its last output lines unless it exits 0. */
export async function runTool(
  ctx: Context,
  tool: string,
  args: string[],
  options: ToolOptions = {},
): Promise<void> {
  const log = new LogTail();
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(path.join(ctx.binDir, tool), args, spawnOptions(ctx, options));
      } catch (err) {
        reject(spawnFailure(tool, ctx, err));
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
      child.stdin?.on('error', () => {}); // EPIPE if it dies early: its exit status tells
      child.stdin?.end(options.input);
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
