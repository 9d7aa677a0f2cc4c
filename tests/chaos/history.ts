import type { DbHandle } from '@chargeonce/db';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';

/** At most this many orders are written out in full for one scenario's failure report. */
const ORDERS_SHOWN = 5;

// postgres.js through drizzle's client hands timestamps back as strings (drizzle keeps them raw).
const iso = (t: Date | string | null) => (t ? new Date(t).toISOString().slice(11, 23) : '-');
const at = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/**
 * The history of the orders in a violation, for the failure report: their rows (order, attempts,
 * refunds, captures and voids, the events the servers recorded) and the provider's side
 * (PaymentIntents, refunds, the events emitted about them and every delivery attempt's status).
 * Times are UTC, to the millisecond.
 */
export async function orderHistory(
  db: DbHandle,
  emulator: StripeEmulator,
  orderIds: Iterable<string>,
): Promise<string[]> {
  const lines: string[] = [];
  const deliveries = emulator.webhookDeliveries();
  for (const orderId of [...orderIds].slice(0, ORDERS_SHOWN)) {
    const [order] = await db.sql`
      select status, amount, currency, refunded_amount, captured_amount, payment_intent_id, version, updated_at
        from orders where id = ${orderId}`;
    lines.push(`order ${orderId}: ${JSON.stringify(order ?? null)}`);
    for (const a of await db.sql`
      select id, status, payment_intent_id, claimed_by, claimed_at, completed_at from payment_attempts
       where order_id = ${orderId} order by claimed_at`) {
      lines.push(
        `  attempt ${a.id} ${a.status} ${a.payment_intent_id} by ${a.claimed_by} claimed ${iso(a.claimed_at)} completed ${iso(a.completed_at)}`,
      );
    }
    for (const r of await db.sql`
      select id, amount, status, stripe_refund_id, error_code, recovery_runs, created_at, completed_at, updated_at
        from refunds where order_id = ${orderId} order by created_at`) {
      lines.push(
        `  refund ${r.id} ${r.amount} ${r.status} ${r.stripe_refund_id ?? '-'} ${r.error_code ?? ''} ` +
          `runs=${r.recovery_runs} created ${iso(r.created_at)} completed ${iso(r.completed_at)} updated ${iso(r.updated_at)}`,
      );
    }
    for (const c of await db.sql`
      select id, kind, amount, status, error_code, recovery_runs, created_at, completed_at
        from captures where order_id = ${orderId} order by created_at`) {
      lines.push(
        `  ${c.kind} ${c.id} ${c.amount ?? 'all'} ${c.status} ${c.error_code ?? ''} ` +
          `runs=${c.recovery_runs} created ${iso(c.created_at)} completed ${iso(c.completed_at)}`,
      );
    }
    const intents = emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId);
    const ids = new Set(intents.map((pi) => pi.id));
    for (const pi of intents)
      lines.push(
        `  provider ${pi.id} ${pi.status} ${pi.amount} received ${pi.amount_received} ${pi.capture_method} ` +
          `${pi.cancellation_reason ?? ''} key ${pi.idempotency_key}`,
      );
    for (const r of emulator.refunds().filter((r) => ids.has(r.payment_intent))) {
      lines.push(
        `  provider ${r.id} ${r.amount} ${r.status} refund ${r.metadata.refund_id} at ${at(r.created * 1000)}`,
      );
      ids.add(r.id);
    }
    const events = emulator.events().filter((e) => {
      const o = e.data.object as { id: string; payment_intent?: string | null };
      return ids.has(o.id) || (o.payment_intent != null && ids.has(o.payment_intent));
    });
    const recorded = new Map(
      (
        await db.sql<{ id: string; result: string; received_at: Date }[]>`
          select id, result, received_at from stripe_events where id = any(${events.map((e) => e.id)}::text[])`
      ).map((e) => [e.id, e]),
    );
    for (const e of events) {
      const o = e.data.object as { id: string; status?: string };
      const tries = deliveries
        .filter((d) => d.eventId === e.id)
        .map((d) => `${d.duplicate ? 'dup ' : ''}${at(d.at)}=${d.statusCode ?? d.error}`);
      const rec = recorded.get(e.id);
      lines.push(
        `  event ${e.id} ${e.type} ${o.id} ${o.status ?? ''} created ${at(e.created * 1000)}: ` +
          `deliveries [${tries.join(', ')}], recorded ${rec ? `${rec.result} at ${iso(rec.received_at)}` : 'no'}`,
      );
    }
  }
  return lines;
}
