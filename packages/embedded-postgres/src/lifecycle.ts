/**
 * Servers still running when the process exits without stop(): an exit hook for all of them, and a
 * watchdog for each ephemeral one in case the process dies without running its exit hook.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

interface Running {
  /** Undefined while the server is down (killed or shut down, to be started again): nothing to signal. */
  pid: number | undefined;
  dir: string;
  persistent: boolean;
}

const running = new Set<Running>();
let exitHookInstalled = false;

function onProcessExit(): void {
  for (const server of running) {
    try {
      // persistent: a fast, clean shutdown that completes after we are gone; ephemeral: just go
      if (server.pid !== undefined) process.kill(server.pid, server.persistent ? 'SIGINT' : 'SIGQUIT');
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

export function track(server: Running): () => void {
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

export function startWatchdog(pid: number, dir: string): ChildProcess | undefined {
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

export async function stopWatchdog(dog: ChildProcess | undefined): Promise<void> {
  if (!dog || dog.exitCode !== null || dog.signalCode !== null || dog.pid === undefined) return;
  const gone = new Promise<void>((resolve) => dog.once('exit', () => resolve()));
  dog.stdin?.end('stop\n');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  clearTimeout(timer);
  if (dog.exitCode === null && dog.signalCode === null) dog.kill('SIGKILL');
}
