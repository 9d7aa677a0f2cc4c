import type postgres from 'postgres';

/**
 * The database's own ceiling for one payment as seen from Node: the product's claim statement and
 * finalize statement (the SQL of packages/payments/src/attempts.ts, written out by hand), sent
 * straight through postgres.js as prepared statements, with a zero-latency provider stub in between
 * and no application logic. Keep the SQL in step with attempts.ts.
 */
export function floorPay(sql: postgres.Sql, userId: string): (orderId: string) => Promise<void> {
  let intents = 0;
  return async (orderId) => {
    const [claim] = await sql<{ attempt_id: string | null; claim_version: number | null }[]>`
      with cur as (
        select *, (extract(epoch from (now() - updated_at)) * 1000)::int as status_age_ms
          from orders
         where id = ${orderId} and user_id = ${userId}
      ),
      claimed as (
        update orders o
           set status = 'processing',
               version = o.version + 1,
               payment_method_id = coalesce(${null}, o.payment_method_id),
               updated_at = now()
          from cur
         where o.id = cur.id and o.version = cur.version and o.status in ('pending', 'failed')
        returning o.id, o.version, o.amount, o.currency, o.payment_method_id
      ),
      attempt as (
        insert into payment_attempts
          (order_id, claim_version, idempotency_key, amount, currency, payment_method_id, claimed_by)
        select id, version, 'chargeonce-' || id || '-v' || version, amount, currency, payment_method_id,
               'bench-floor'
          from claimed
        returning id, claim_version, idempotency_key, amount, currency, payment_method_id
      )
      select cur.*, attempt.id as attempt_id, attempt.claim_version, attempt.idempotency_key,
             attempt.amount as attempt_amount, attempt.currency as attempt_currency,
             attempt.payment_method_id as attempt_payment_method_id
        from cur left join attempt on true`;
    if (!claim?.attempt_id || claim.claim_version === null) throw new Error(`floor: claim missed ${orderId}`);
    // The zero-latency provider stub: an id, no I/O.
    const paymentIntentId = `pi_floor_${++intents}`;
    const [paid] = await sql<{ id: string }[]>`
      with o as (
        update orders
           set status = 'paid',
               version = version + 1,
               payment_intent_id = ${paymentIntentId},
               paid_at = now(),
               updated_at = now()
         where id = ${orderId}
           and version = ${claim.claim_version}
           and status = 'processing'
           and exists (select 1 from payment_attempts where id = ${claim.attempt_id} and status = 'processing')
        returning *
      ),
      a as (
        update payment_attempts
           set status = 'succeeded',
               payment_intent_id = ${paymentIntentId},
               error_code = ${null},
               decline_code = ${null},
               completed_at = now()
         where id = ${claim.attempt_id} and status = 'processing' and exists (select 1 from o)
        returning id
      )
      select o.*, (select count(*) from a)::int as attempts_updated from o`;
    if (!paid) throw new Error(`floor: finalize missed ${orderId}`);
  };
}
