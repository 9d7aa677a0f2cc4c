import { afterAll, beforeAll, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';

/** CHARGEONCE_CUSTOMER_REFUNDS=off: customers can no longer refund; services with the scope can. */
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess({ CHARGEONCE_CUSTOMER_REFUNDS: 'off' });
});
afterAll(async () => {
  await env?.stop();
});

it('a customer’s refund is FORBIDDEN and changes nothing; a service with orders:refund refunds', async () => {
  const customer = await env.newUser();
  const order = await customer.client.orders.create.mutate({
    amount: 3000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  await customer.client.orders.pay.mutate({ orderId: order.id });
  const denied = await trpcError(customer.client.orders.refund.mutate({ orderId: order.id }));
  expect([denied.code, denied.message]).toEqual([
    'FORBIDDEN',
    'This token does not have the orders:refund scope.',
  ]);
  expect(env.emulator.refunds()).toHaveLength(0);
  const backOffice = await env.newService(['orders:refund']);
  const refunded = await backOffice.client.orders.refund.mutate({ orderId: order.id, amount: 1000 });
  expect(refunded.order).toMatchObject({ status: 'partially_refunded', refundedAmount: 1000 });
  const [row] = await env.db.sql`select requested_by_kind from refunds where order_id = ${order.id}`;
  expect(row).toEqual({ requested_by_kind: 'service' });
});
