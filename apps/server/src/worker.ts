import {
  type PaymentsDeps,
  type ReconcileReport,
  type RecoveryPolicy,
  reconcile,
  runRecovery,
} from '@chargeonce/payments';
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

/** The recovery worker: settles attempts whose outcome is unknown (see payments/recover.ts). */
export function startRecoveryWorker(options: {
  payments: PaymentsDeps;
  policy: RecoveryPolicy;
  intervalMs: number;
  metrics?: Metrics | undefined;
}): Periodic {
  const { payments, policy, metrics } = options;
  return every(options.intervalMs, async () => {
    try {
      const report = await runRecovery(payments, policy);
      for (const [result, count] of Object.entries(report.results)) {
        if (count > 0) metrics?.recoveryRuns.inc({ result }, count);
      }
      metrics?.recoveryRuns.inc({ result: 'pass' });
    } catch (err) {
      metrics?.recoveryRuns.inc({ result: 'error' });
      payments.logger?.error({ err }, 'recovery pass failed');
    }
  });
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
}): Periodic {
  const { payments, metrics } = options;
  return every(options.intervalMs, async () => {
    try {
      const to = new Date();
      const report = await reconcile(payments, { from: new Date(to.getTime() - options.windowMs), to });
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
  });
}
