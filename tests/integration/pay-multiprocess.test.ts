import { afterAll, beforeAll, expect, it } from 'vitest';
import { metricSum } from '../support/metrics';
import { type Stack, startStack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  // The provider takes 300 ms per request, so the 99 losers really meet the winner's claim in flight
  // (with an instant provider the charge can be over before any of them claims: nothing overlaps).
  stack = await startStack({ instances: 3, emulatorLatencyMs: 300 });
});
afterAll(async () => {
  await stack?.stop();
});

it('100 concurrent pays across 3 server processes: one charge', async () => {
  const user = await stack.newUser();
  const order = await user.clients[0]!.orders.create.mutate({
    amount: 500,
    currency: 'eur',
    paymentMethodId: 'pm_card_visa',
  });
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => user.clients[i % 3]!.orders.pay.mutate({ orderId: order.id })),
  );
  const outcomes = results.map((r) =>
    r.status === 'fulfilled' ? r.value.outcome : `error: ${String(r.reason)}`,
  );
  expect(outcomes.filter((o) => o === 'charged')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'already_paid')).toHaveLength(99);
  const intents = stack.paymentIntentsFor(order.id);
  expect(intents).toHaveLength(1);
  const [row] = await stack.db.sql`select status, payment_intent_id from orders where id = ${order.id}`;
  expect(row).toMatchObject({ status: 'paid', payment_intent_id: intents[0]!.id });
  // Exactly one claim was ever made...
  const attempts = await stack.db.sql`select status from payment_attempts where order_id = ${order.id}`;
  expect(attempts.map((a) => a.status)).toEqual(['succeeded']);
  // ...while the others really overlapped it: every loser that saw the claim in flight counted a
  // conflict, on all three instances together.
  const urls = stack.servers.map((s) => s.url);
  expect(await metricSum(urls, 'chargeonce_claim_conflicts_total')).toBeGreaterThan(0);
  for (const url of urls) {
    expect(
      await metricSum(
        [url],
        'chargeonce_http_request_duration_seconds_count{procedure="orders.pay",code="200"}',
      ),
    ).toBeGreaterThan(0);
  }
});
