import { randomUUID } from 'node:crypto';
import { type Database, reapKeys } from '@chargeonce/db';
import {
  type Logger,
  type PaymentsDeps,
  type ReconcileReport,
  type RecoveryPolicy,
  reconcileAndRecord,
  runRecovery,
} from '@chargeonce/payments';
import { type ChildLogger, withLogger } from './log-context';
import type { Metrics } from './metrics';

export interface Periodic {
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, each run starting after the previous one ended (runs never overlap
 * in one process; across processes the database keeps them apart). `stop()` waits for a running one.
 */
export function every(intervalMs: number, task: () => Promise<void>): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * `task` with a logger of its own as the logger of everything it causes: every line of one run
 * carries `job` and a `runId` (what a request id is to a request).
 */
function asJob(job: string, log: ChildLogger | undefined, task: () => Promise<void>): () => Promise<void> {
  return () => (log ? withLogger(log.child({ job, runId: randomUUID() }), task) : task());
}

/**
 * The recovery worker: settles attempts whose outcome is unknown (and abandoned challenges), refunds,
 * captures and voids still pending, and open authorizations that may have lapsed (see
 * payments/recover.ts, refund-recover.ts and capture-recover.ts).
 */
export function startRecoveryWorker(options: {
  payments: PaymentsDeps;
  policy: RecoveryPolicy;
  intervalMs: number;
  metrics?: Metrics | undefined;
  /** The server's logger: each pass logs through a child of it (see asJob). */
  log?: ChildLogger | undefined;
}): Periodic {
  const { payments, policy, metrics } = options;
  return every(
    options.intervalMs,
    asJob('recovery', options.log, async () => {
      try {
        const report = await runRecovery(payments, policy);
        const kinds = {
          attempt: report.results,
          refund: report.refunds.results,
          capture: report.captures.results,
        };
        for (const [kind, results] of Object.entries(kinds)) {
          for (const [outcome, count] of Object.entries(results)) {
            if (count > 0) metrics?.recoveryOutcomes.inc({ kind, outcome }, count);
          }
        }
        metrics?.recoveryPasses.inc({ result: 'ok' });
      } catch (err) {
        metrics?.recoveryPasses.inc({ result: 'failed' });
        payments.logger?.error({ err }, 'recovery pass failed');
      }
    }),
  );
}

/** Publishes a reconciliation report's findings on the findings gauge (by kind). */
export function recordFindings(metrics: Metrics | undefined, report: ReconcileReport): void {
  metrics?.reconciliationFindings.reset();
  for (const finding of report.findings) metrics?.reconciliationFindings.inc({ kind: finding.kind });
}

/** Periodic reconciliation of the last `windowMs` (off unless configured). */
export function startReconciler(options: {
  payments: PaymentsDeps;
  intervalMs: number;
  windowMs: number;
  metrics?: Metrics | undefined;
  log?: ChildLogger | undefined;
}): Periodic {
  const { payments, metrics } = options;
  return every(
    options.intervalMs,
    asJob('reconcile', options.log, async () => {
      try {
        // Recorded (reconciliation_runs) for the operator page of any instance, failed runs too.
        const { report } = await reconcileAndRecord(payments, {
          windowMs: options.windowMs,
          trigger: { kind: 'schedule' },
        });
        recordFindings(metrics, report);
        if (report.unexplained > 0) {
          payments.logger?.error(
            { findings: report.findings.slice(0, 20) },
            'reconciliation found unexplained payments',
          );
        }
      } catch (err) {
        payments.logger?.error({ err }, 'reconciliation failed');
      }
    }),
  );
}

/** Keys deleted per statement: a large backlog is removed in short transactions. */
const REAP_BATCH = 1_000;

/**
 * The idempotency key reaper: removes keys past `retentionMs` (at least 24 h) that no live request
 * holds, in batches, every `intervalMs`. Orders made under a reaped key keep existing (their link
 * to it is cleared); a request with the key after that is a new request.
 */
export function startIdempotencyReaper(options: {
  db: Database;
  leaseMs: number;
  retentionMs: number;
  intervalMs: number;
  metrics?: Metrics | undefined;
  /** The logger of the moment (the server's, once it is built). */
  logger: () => Logger | undefined;
}): Periodic {
  const { db, metrics } = options;
  return every(options.intervalMs, async () => {
    try {
      let reaped: number;
      do {
        reaped = await reapKeys(db, { ...options, limit: REAP_BATCH });
        metrics?.idempotencyKeysReaped.inc(reaped);
      } while (reaped === REAP_BATCH);
    } catch (err) {
      options.logger()?.error({ err }, 'idempotency key reaping failed');
    }
  });
}
