import { z } from 'zod';

/** How shutdown goes (see main.ts and runtime.ts `close`). */
export interface ShutdownOptions {
  /**
   * From the first SIGINT/SIGTERM to a forced exit (1) naming what was still in flight. Below
   * Kubernetes' default 30 s grace period, so the log line is written before the SIGKILL comes.
   */
  timeoutMs: number;
  /**
   * How long /readyz answers 503 (and responses `Connection: close`) before the listener closes:
   * time for a load balancer to stop routing here. 0 locally; a few seconds behind one.
   */
  delayMs: number;
  /**
   * The signal that forces an exit without draining: the first drains, the ones before this are
   * logged and ignored (a terminal's Ctrl-C reaches the server through `pnpm start`'s wrappers too).
   */
  forceAfterSignals: number;
  /**
   * A signal within this many ms of the last counted one is the same press, logged and not counted
   * toward `forceAfterSignals`: one Ctrl-C reaches the server several times (the terminal's signal
   * to the process group, tsx's relay ~30 ms later, and on some systems pnpm's or sh's). 0 counts
   * every delivery (the old behaviour).
   */
  coalesceMs: number;
}

export const DEFAULT_SHUTDOWN: ShutdownOptions = {
  timeoutMs: 25_000,
  delayMs: 0,
  forceAfterSignals: 3,
  coalesceMs: 1_000,
};

/** The environment variables of shutdown and of the build's identity, for config.ts's schema. */
export const shutdownEnv = {
  CHARGEONCE_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1).default(DEFAULT_SHUTDOWN.timeoutMs),
  CHARGEONCE_SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(DEFAULT_SHUTDOWN.delayMs),
  CHARGEONCE_SHUTDOWN_FORCE_SIGNALS: z.coerce
    .number()
    .int()
    .min(2)
    .max(10)
    .default(DEFAULT_SHUTDOWN.forceAfterSignals),
  CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(DEFAULT_SHUTDOWN.coalesceMs),
  // The commit the build was made from (chargeonce_build_info); unset: `git rev-parse` if it can.
  CHARGEONCE_BUILD_COMMIT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, {
        message: 'CHARGEONCE_BUILD_COMMIT must be 1-64 letters, digits, ".", "_" or "-"',
      })
      .optional(),
  ),
};

type ShutdownEnv = z.infer<z.ZodObject<typeof shutdownEnv>>;

/** The shutdown settings; a delay that leaves no time to drain is refused. */
export function shutdownOf(e: ShutdownEnv): ShutdownOptions | string {
  if (e.CHARGEONCE_SHUTDOWN_DELAY_MS >= e.CHARGEONCE_SHUTDOWN_TIMEOUT_MS) {
    return 'CHARGEONCE_SHUTDOWN_DELAY_MS must be less than CHARGEONCE_SHUTDOWN_TIMEOUT_MS';
  }
  return {
    timeoutMs: e.CHARGEONCE_SHUTDOWN_TIMEOUT_MS,
    delayMs: e.CHARGEONCE_SHUTDOWN_DELAY_MS,
    forceAfterSignals: e.CHARGEONCE_SHUTDOWN_FORCE_SIGNALS,
    coalesceMs: e.CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS,
  };
}
