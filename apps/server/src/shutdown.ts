import type { InFlightRequest } from './drain';
import type { ShutdownOptions } from './shutdown-config';

/** What shutdown acts on, and how it speaks (the process by default; tests pass their own). */
export interface ShutdownTarget {
  /** Drains and closes everything; resolves once it is all closed. */
  close(): Promise<void>;
  /** What is still being served, named in the line of a forced exit. */
  inFlight(): InFlightRequest[];
}

export interface ShutdownProcess {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  log(line: string): void;
  error(line: string): void;
}

const nodeProcess: ShutdownProcess = {
  on: (signal, listener) => process.on(signal, listener),
  exit: (code) => process.exit(code),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * SIGINT/SIGTERM: the first drains (see runtime.ts `close`) and exits 0 once everything is closed.
 * The same signal arriving again while draining is logged and ignored: a terminal's Ctrl-C signals
 * the whole process group, so under `pnpm start` the server hears it directly and once more through
 * tsx's relay (pnpm → tsx → node), and that second one must not drop the in-flight pays. The
 * `forceAfterSignals`-th signal, or the deadline, exits 1 at once with a line naming what was still
 * in flight (an attempt left `processing` is settled by recovery with the same key).
 */
export function onShutdownSignals(
  options: ShutdownOptions,
  target: ShutdownTarget,
  proc: ShutdownProcess = nodeProcess,
): { readonly stopping: boolean } {
  let signals = 0;
  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    proc.exit(code);
  };
  const force = (why: string) => {
    const inFlight = target.inFlight();
    proc.error(
      `shutdown forced (${why}): exiting 1 with ${inFlight.length} request(s) still in flight: ${JSON.stringify(inFlight)}`,
    );
    exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals >= options.forceAfterSignals) return force(`${signal}, signal ${signals}`);
    if (signals > 1) {
      proc.error(
        `${signal} again while draining: ignored (signal ${signals}; signal ${options.forceAfterSignals} exits at once)`,
      );
      return;
    }
    proc.log(`${signal}: draining in-flight requests and shutting down (deadline ${options.timeoutMs} ms)`);
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
  for (const signal of SIGNALS) proc.on(signal, onSignal);
  return {
    get stopping() {
      return signals > 0;
    },
  };
}
