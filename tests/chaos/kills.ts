import { CAPTURE_START, CLAIM, type DbHandle, VOID_START } from '@chargeonce/db';
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
 * serving an `orders.refund` (reserving, at the provider, or settling); `capture_in_flight` kills
 * the instance serving a capture or void of an order being captured or voided whose hold is still
 * open at the provider (its call is there, or on its way), and `after_capture` the one serving a
 * capture or void the provider has already executed while the order is not settled yet.
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
      // The harness's own queries fail too while the database is down (--db-faults): no victim yet.
      victim = await (plan.trigger === 'in_flight'
        ? providerCallInFlight(cluster, db)
        : plan.trigger === 'after_charge'
          ? chargedNotFinalized(cluster, db, emulator)
          : plan.trigger === 'refund_in_flight'
            ? Promise.resolve(refundInFlight(cluster))
            : holdDecision(cluster, db, emulator, plan.trigger === 'after_capture')
      ).catch(() => undefined);
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

/** Orders being captured or voided: taken by a request, its provider outcome not recorded yet. */
const DECIDING = [CAPTURE_START.to, VOID_START.to];
const HOLD_CALLS = ['orders.capture', 'orders.void'];

/**
 * An instance serving a capture or void of an order that is still being decided in the database:
 * with `executed`, one whose PaymentIntent the provider has already captured or canceled (the
 * finalize is what is left); without, one whose hold is still open there (the call is in flight).
 */
async function holdDecision(cluster: Cluster, db: DbHandle, emulator: StripeEmulator, executed: boolean) {
  const serving = cluster.servingOrders(HOLD_CALLS);
  if (serving.length === 0) return undefined;
  const rows = await db.sql<{ id: string; payment_intent_id: string | null }[]>`
    select id, payment_intent_id from orders
     where id = any(${serving.map((s) => s.orderId)}::uuid[]) and status = any(${DECIDING}::order_status[])`;
  const atProvider = new Map(emulator.paymentIntents().map((pi) => [pi.id, pi.status]));
  for (const row of rows) {
    const held = atProvider.get(row.payment_intent_id ?? '') === 'requires_capture';
    if (held === executed) continue;
    const victim = serving.find((s) => s.orderId === row.id)!;
    const why = executed ? 'executed at the provider, not recorded' : 'at the provider';
    return { instanceId: victim.slot.instanceId!, why: `hold of ${row.id} ${why}` };
  }
  return undefined;
}
