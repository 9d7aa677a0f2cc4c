import { REFUND_SETTLE } from '@chargeonce/db';
import { answerOf, finish, ORDER_AMOUNT, type Race, row, Tally } from './shared';
import { providerRefunds, type RefundSummary, refundAnswerKind, refundFailures } from './verdicts';

/**
 * `--op refund`: one order, paid first, then `clicks` concurrent `orders.refund` calls across the
 * instances, each its own request with its own idempotency key (the typed client's): full refunds,
 * or with `partialOf` refunds of amount / partialOf each. Counts the answers, the order's
 * `refunded_amount` in the database and the succeeded refunds of its PaymentIntent at the provider.
 */
export async function raceRefund(race: Race, clicks: number, partialOf: number | undefined): Promise<number> {
  const { stack, instances, log } = race;
  const user = await stack.newUser('race');
  const first = user.clients[0]!;
  const order = await first.orders.create.mutate({
    amount: ORDER_AMOUNT,
    currency: 'usd',
    paymentMethodId: race.card,
  });
  const paid = await first.orders.pay.mutate({ orderId: order.id });
  if (paid.outcome !== 'charged') throw new Error(`paying order ${order.id} answered ${paid.outcome}`);
  const amount = partialOf === undefined ? undefined : ORDER_AMOUNT / partialOf;
  const what = amount === undefined ? 'full refunds' : `refunds of ${amount} (1/${partialOf} each)`;
  log(`order ${order.id} paid ${ORDER_AMOUNT} (${paid.paymentIntentId}, ${race.card})`);
  log(`firing ${clicks} concurrent ${what} across ${instances} instance(s)`);

  const started = performance.now();
  // All requests are issued before any is awaited: they are in flight together.
  const results = await Promise.allSettled(
    Array.from({ length: clicks }, (_, i) =>
      user.clients[i % instances]!.orders.refund.mutate({
        orderId: order.id,
        ...(amount === undefined ? {} : { amount }),
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  const counts = { refunded: 0, refused: 0, other: 0 };
  const refusals = new Tally();
  const others = new Tally();
  for (const r of results) {
    const kind = refundAnswerKind(r);
    counts[kind]++;
    if (kind !== 'refunded') (kind === 'refused' ? refusals : others).add(answerOf(r));
  }

  const [final] = await stack.db.sql`select status, refunded_amount from orders where id = ${order.id}`;
  const [db] = await stack.db.sql`
    select count(*)::int as n, coalesce(sum(amount), 0)::int as amount
      from refunds where order_id = ${order.id} and status = ${REFUND_SETTLE.succeeded.to}`;
  const intents = stack.paymentIntentsFor(order.id).map((pi) => pi.id);
  const provider = providerRefunds(stack.emulator.refunds(), intents);
  const summary: RefundSummary = {
    op: 'refund',
    clicks,
    instances,
    amount: ORDER_AMOUNT,
    refunds_succeeded: counts.refunded,
    refunded_amount: final?.refunded_amount as number,
    provider_refunded_amount: provider.amount,
    refused: counts.refused,
    other: counts.other,
  };
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(row('refunds succeeded', summary.refunds_succeeded));
  log(row('refused', summary.refused));
  for (const line of refusals.lines()) log(line);
  log(row('other', summary.other));
  for (const line of others.lines()) log(line);
  log(
    row('order refunded_amount', `${summary.refunded_amount} of ${ORDER_AMOUNT} (status ${final?.status})`),
  );
  log(row('database refunds', `${db?.n} succeeded, ${db?.amount} in all`));
  log(row('provider PaymentIntents', intents.join(', ') || 'none'));
  log(row('provider refunds', `${provider.count} succeeded, ${provider.amount} in all`));
  const failures = refundFailures(summary, {
    parts: partialOf ?? 1,
    providerRefunds: provider.count,
    databaseRefunds: db?.n as number,
  });
  return finish(race, summary, failures);
}
