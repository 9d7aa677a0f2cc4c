import type { InFlightRequest } from './drain';
import type { ShutdownOptions } from './shutdown-config';

/** What shutdown acts on, and how it speaks (the process by default; tests pass their own). */
export interface ShutdownTarget {
  /**
   * Start-up, when the signals are heard before it has finished: the deadline is armed and close()
   * called only once it has resolved. Its rejection is the caller's to report (start-up closes what
   * it opened before it rejects). Unset: start-up has finished.
   */
  started?: Promise<unknown>;
  /** Drains and closes everything; resolves once it is all closed. */
  close(): Promise<void>;
  /** What is still being served, named in the line of a forced exit. */
  inFlight(): InFlightRequest[];
  /**
   * What start-up launches that would outlive the process (the embedded PostgreSQL). A forced exit
   * during start-up first waits for start-up and close() (bounded by the deadline); unset, it exits
   * at once.
   */
  outlives?: string;
}

export interface ShutdownProcess {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  log(line: string): void;
  error(line: string): void;
  /** A monotonic clock in ms (the coalescing window's). */
  now(): number;
}

const nodeProcess: ShutdownProcess = {
  on: (signal, listener) => process.on(signal, listener),
  exit: (code) => process.exit(code),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  now: () => performance.now(),
};

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * SIGINT/SIGTERM: the first drains (see runtime.ts `close`) and exits 0 once everything is closed.
 * One Ctrl-C reaches the server several times: the terminal signals the whole process group, so
 * under `pnpm start` the server hears it directly, once more through tsx's relay (pnpm → tsx → node,
 * ~30 ms later) and on some systems through pnpm or sh too. A signal within `coalesceMs` of the last
 * counted one is that same press: logged and not counted. A counted signal after the first is
 * logged and ignored while draining; the `forceAfterSignals`-th, or the deadline, exits 1 at once
 * with a line naming what was still in flight (an attempt left `processing` is settled by recovery
 * with the same key).
 *
 * Heard during start-up (initdb, migrations), the drain waits for start-up and the deadline starts
 * only once it has finished. A forced exit then stops what start-up launched that would outlive the
 * process first (`outlives`), at most for the deadline, and says so if it could not.
 */
export function onShutdownSignals(
  options: ShutdownOptions,
  target: ShutdownTarget,
  proc: ShutdownProcess = nodeProcess,
): { readonly stopping: boolean } {
  let signals = 0;
  let lastCounted = 0;
  let exited = false;
  let starting = target.started !== undefined;
  // Forced during start-up: waiting to stop what start-up launched (no drain runs beside it).
  let abandoning = false;
  target.started?.then(
    () => {
      starting = false;
    },
    () => {},
  );
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    proc.exit(code);
  };
  const notStopped = (why: string, how: string) => {
    proc.error(
      `shutdown forced (${why}): exiting 1 without having stopped ${target.outlives} (${how}): it may still be running; the next start on its data directory takes it back`,
    );
    exit(1);
  };
  const abandonStartup = (why: string) => {
    abandoning = true;
    proc.error(
      `shutdown forced (${why}) during start-up: stopping ${target.outlives} first, once start-up has finished (at most ${options.timeoutMs} ms; one more signal exits at once)`,
    );
    const bound = setTimeout(
      () => notStopped(why, `not stopped within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    // A start-up that fails has closed what it opened.
    (target.started ?? Promise.resolve())
      .then(
        () => target.close(),
        () => {},
      )
      .then(
        () => {
          clearTimeout(bound);
          proc.error(`shutdown forced (${why}): ${target.outlives} stopped: exiting 1`);
          exit(1);
        },
        (err: unknown) => {
          clearTimeout(bound);
          notStopped(why, `close failed: ${err instanceof Error ? err.message : err}`);
        },
      );
  };
  const force = (why: string) => {
    if (abandoning) return notStopped(why, 'one more signal');
    if (starting && target.outlives) return abandonStartup(why);
    if (starting) {
      proc.error(`shutdown forced (${why}) during start-up: exiting 1`);
      return exit(1);
    }
    const inFlight = target.inFlight();
    proc.error(
      `shutdown forced (${why}): exiting 1 with ${inFlight.length} request(s) still in flight: ${JSON.stringify(inFlight)}`,
    );
    exit(1);
  };
  const drain = () => {
    if (abandoning) return;
    const deadline = setTimeout(() => force(`deadline of ${options.timeoutMs} ms passed`), options.timeoutMs);
    target.close().then(
      () => {
        clearTimeout(deadline);
        proc.log('shutdown complete: exiting 0');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        proc.error(`shutdown failed: exiting 1: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = proc.now();
    if (signals > 0 && now - lastCounted < options.coalesceMs) {
      proc.error(
        `${signal} again ${Math.round(now - lastCounted)} ms after the last counted signal: the same press, ignored (not counted; window ${options.coalesceMs} ms)`,
      );
      return;
    }
    signals++;
    lastCounted = now;
    if (signals >= options.forceAfterSignals) return force(`${signal}, signal ${signals}`);
    if (signals > 1) {
      proc.error(
        `${signal} again while draining: ignored (signal ${signals}; signal ${options.forceAfterSignals} exits at once)`,
      );
      return;
    }
    proc.log(
      `${signal}: draining in-flight requests and shutting down (deadline ${options.timeoutMs} ms)` +
        (starting ? '; start-up is still running: the deadline starts once it has finished' : ''),
    );
    if (!starting) return drain();
    // A failed start-up is reported (and exits 1) by its caller.
    target.started?.then(drain, () => {});
  };
  for (const signal of SIGNALS) proc.on(signal, onSignal);
  return {
    get stopping() {
      return signals > 0;
    },
  };
}
