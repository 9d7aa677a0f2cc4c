import { CLAIM, type DbHandle } from '@chargeonce/db';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import type { Cluster } from './cluster';
import { sleep } from './load';
import type { KillPlan } from './scenario';

/** How long a trigger waits for its moment before falling back to a plain kill. */
const TRIGGER_WAIT_MS = 2000;

/**
 * Carries out the kill plan against the load that is running. `in_flight` kills the instance
 * whose provider call for a fresh claim is in flight; `after_charge` kills the instance that
 * claimed an attempt the provider has already charged while the attempt is still `processing` —
 * between the provider's success and the finalize; `refund_in_flight` kills an instance that is
 * serving an `orders.refund` (reserving, at the provider, or settling).
 */
export async function runKills(
  kills: KillPlan[],
  loadStart: number,
  cluster: Cluster,
  db: DbHandle,
  emulator: StripeEmulator,
  stopped: () => boolean,
): Promise<void> {
  for (const plan of kills) {
    await sleep(loadStart + plan.atMs - Date.now());
    if (stopped()) return;
    const deadline = Date.now() + TRIGGER_WAIT_MS;
    let victim: { instanceId: string; why: string } | undefined;
    while (!victim && plan.trigger !== 'time' && Date.now() < deadline && !stopped()) {
      victim =
        plan.trigger === 'in_flight'
          ? await providerCallInFlight(cluster, db)
          : plan.trigger === 'after_charge'
            ? await chargedNotFinalized(cluster, db, emulator)
            : refundInFlight(cluster);
      if (!victim) await sleep(15);
    }
    const slot = victim ? cluster.slotOf(victim.instanceId) : undefined;
    if (slot) {
      await cluster.kill(slot, `${plan.trigger}: ${victim!.why}`, plan.restartAfterMs);
      continue;
    }
    const live = cluster.live();
    if (live.length > 0) {
      const why = plan.trigger === 'time' ? 'time' : `${plan.trigger} not seen, time`;
      await cluster.kill(live[plan.pick % live.length]!, why, plan.restartAfterMs);
    }
  }
}

async function providerCallInFlight(cluster: Cluster, db: DbHandle) {
  const live = cluster.live().map((s) => s.instanceId!);
  // A claim younger than the provider timeout: its payer is (most likely) still talking to Stripe.
  const rows = await db.sql<{ claimed_by: string; order_id: string }[]>`
    select claimed_by, order_id from payment_attempts
     where status = ${CLAIM.attempt.to} and claimed_by = any(${live}::text[])
       and claimed_at > now() - interval '500 milliseconds'
     order by claimed_at desc limit 1`;
  const row = rows[0];
  return row && { instanceId: row.claimed_by, why: `provider call for ${row.order_id} in flight` };
}

function refundInFlight(cluster: Cluster) {
  const slot = cluster.serving('orders.refund');
  return slot && { instanceId: slot.instanceId!, why: 'serving a refund' };
}

async function chargedNotFinalized(cluster: Cluster, db: DbHandle, emulator: StripeEmulator) {
  const live = cluster.live().map((s) => s.instanceId!);
  const attemptIds = emulator
    .paymentIntents()
    .filter((pi) => pi.status === 'succeeded' && pi.metadata.attempt_id)
    .map((pi) => pi.metadata.attempt_id!);
  if (attemptIds.length === 0) return undefined;
  const rows = await db.sql<{ claimed_by: string; order_id: string }[]>`
    select claimed_by, order_id from payment_attempts
     where status = ${CLAIM.attempt.to} and id = any(${attemptIds}::uuid[]) and claimed_by = any(${live}::text[])
     order by claimed_at desc limit 1`;
  const row = rows[0];
  return row && { instanceId: row.claimed_by, why: `${row.order_id} charged, attempt not finalized` };
}
