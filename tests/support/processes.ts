import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SERVER_MAIN = fileURLToPath(new URL('../../apps/server/src/main.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/** A process to run: `node <args>` in `cwd`, with `env` (default: this process's) plus the caller's. */
export interface NodeCommand {
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** A TypeScript entry point of this checkout, run under tsx from the repo root. */
export const tsxCommand = (script: string, args: string[] = []): NodeCommand => ({
  args: ['--import', TSX_LOADER, script, ...args],
  cwd: REPO_ROOT,
});

/**
 * Under `pnpm mutate` (Stryker), the mutant active in this test worker, for the processes it starts:
 * Stryker's vitest runner sets it on this process's global only, and the instrumented code of a
 * child reads it from the environment instead. Empty outside Stryker.
 */
function activeMutantEnv(): Record<string, string> {
  const active = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__?.activeMutant;
  return active === undefined ? {} : { __STRYKER_ACTIVE_MUTANT__: String(active) };
}

/**
 * When the suite records coverage (vitest.coverage.setup.ts), the processes it starts write raw V8
 * coverage for `pnpm coverage` to credit; processes they start inherit it.
 */
function childCoverageEnv(): Record<string, string> {
  const dir = process.env.CHARGEONCE_CHILD_V8_COVERAGE;
  return dir ? { NODE_V8_COVERAGE: dir } : {};
}

const spawnNode = (command: NodeCommand, env: Record<string, string>) =>
  spawn(process.execPath, command.args, {
    cwd: command.cwd,
    env: { ...(command.env ?? process.env), ...activeMutantEnv(), ...childCoverageEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  output: string[];
  /** Lines starting `<name>: ` printed at start-up (server, stripe emulator, demo token). */
  printed: Record<string, string>;
  /** Sends `signal` and resolves with the exit code (or signal name) once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  exited: Promise<number | string>;
}

/**
 * Starts `apps/server/src/main.ts` (or `options.command`, e.g. a production build) as its own OS
 * process with `env` added, and resolves once it printed its `server: <url>` line. Rejects (with
 * its output) if it exits first or takes too long.
 */
export function spawnServer(
  env: Record<string, string>,
  options: { timeoutMs?: number; command?: NodeCommand } = {},
): Promise<ServerProcess> {
  const child = spawnNode(options.command ?? tsxCommand(SERVER_MAIN), env);
  const output: string[] = [];
  const printed: Record<string, string> = {};
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`server did not start within ${options.timeoutMs ?? 60_000} ms:\n${output.join('\n')}`),
      );
    }, options.timeoutMs ?? 60_000);
    const onLine = (line: string) => {
      output.push(line);
      const match = /^(server|stripe emulator|demo token): (\S+)$/.exec(line);
      if (!match) return;
      printed[match[1]!] = match[2]!;
      if (match[1] === 'server') {
        clearTimeout(timer);
        resolve({
          url: match[2]!,
          child,
          output,
          printed,
          exited,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, onLine);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${output.join('\n')}`));
    });
  });
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last non-empty stdout line (the JSON summary of the repo's CLIs). */
  lastLine: string;
}

/**
 * Runs a TypeScript entry point of this repo (path relative to the repo root) to completion as its
 * own process, with `env` added, and collects its output.
 */
export function runScript(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ToolRun> {
  return runNode(tsxCommand(script, args), env);
}

/** Runs `command` to completion, with `env` added, and collects its output. */
export function runNode(command: NodeCommand, env: Record<string, string> = {}): Promise<ToolRun> {
  const child = spawnNode(command, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) =>
    child.once('close', (code) =>
      resolve({ code, stdout, stderr, lastLine: stdout.trim().split('\n').at(-1) ?? '' }),
    ),
  );
}
