import {
  CAPTURE_STATUSES,
  CAPTURE_TRANSITIONS,
  type DbHandle,
  IN_FLIGHT_ATTEMPT_STATUSES,
  IN_FLIGHT_REFUND_STATUSES,
} from '@chargeonce/db';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import type { Cluster } from './cluster';
import { sleep } from './load';

/** Attempts, refunds, captures and voids whose outcome is not settled yet: a settled run has none. */
export const IN_FLIGHT = [...IN_FLIGHT_ATTEMPT_STATUSES];
const PENDING_REFUNDS = [...IN_FLIGHT_REFUND_STATUSES];
const PENDING_CAPTURES = CAPTURE_STATUSES.filter((s) => CAPTURE_TRANSITIONS[s].length > 0);

/** How long recovery and webhooks get to settle everything once the load and faults stop. */
export const SETTLE_TIMEOUT_MS = 60_000;

/**
 * Faults off, the webhook slot up; then wait (bounded) until no attempt is `processing` or awaiting
 * a challenge, no refund is pending (in the database, or at the provider: a test card's refund
 * before its delay is waited for, not reported), no capture or void is pending, no challenge is open
 * at the provider (an abandoned one is canceled by recovery after the challenge timeout), and the
 * emulator has no delivery queued, held or in flight (nor a refund waiting to change status).
 * Recovery and webhooks do the work.
 */
export async function settle(cluster: Cluster, db: DbHandle, emulator: StripeEmulator): Promise<boolean> {
  emulator.clearFaults();
  await cluster.ensureSettleable();
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const unsettled = async () => {
    const [row] = await db.sql<{ n: number }[]>`
      select (select count(*) from payment_attempts where status = any(${IN_FLIGHT}::attempt_status[]))::int
           + (select count(*) from refunds where status = any(${PENDING_REFUNDS}::refund_status[]))::int
           + (select count(*) from captures where status = any(${PENDING_CAPTURES}::capture_status[]))::int as n`;
    const provider =
      emulator.refunds().filter((r) => r.status === 'pending').length +
      emulator.paymentIntents().filter((pi) => pi.status === 'requires_action').length;
    return row!.n + provider;
  };
  while (Date.now() < deadline) {
    // A query on a connection that a database fault (--db-faults) broke fails once: ask again.
    if ((await unsettled().catch(() => -1)) === 0) {
      const drained = await emulator
        .drainWebhooks(Math.max(1, Math.min(5000, deadline - Date.now())))
        .then(() => true)
        .catch(() => false);
      if (drained && (await unsettled().catch(() => -1)) === 0) return true;
    }
    await sleep(100);
  }
  return false;
}

/** Prunes keys older than the servers' key window: recovery never repeats a create with one of those. */
export function startPruner(emulator: StripeEmulator, keyWindowMs: number) {
  let pruned = 0;
  const timer = setInterval(() => {
    pruned += emulator.pruneIdempotencyKeys(keyWindowMs);
  }, 250);
  return {
    pruned: () => pruned,
    stop: () => clearInterval(timer),
  };
}
