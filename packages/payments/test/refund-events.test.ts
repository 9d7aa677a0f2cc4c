import { randomUUID } from 'node:crypto';
import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway, RefundResult } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { refundOrder } from '../src/refund';
import { applyRefundEvent } from '../src/refund-events';
import { findRefund, type Refund } from '../src/refund-store';
import type { PaymentIntentEvent } from '../src/webhook';
import { refundReads as reads, recordingLogger, refundingProvider, useDatabase } from './support';

/**
 * What a refund webhook does when the provider cannot say, or says nothing of ours: an unreadable
 * refund is left for a redelivery (nothing recorded), a PaymentIntent with no refund or a refund
 * that is not ours is recorded as unknown and warned about, and a settle is logged for operators
 * with the event and the refund it moved. The provider is a fake whose every read a test sets.
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-events-test', (db) => {
  ({ handle, userId } = db);
});

function deps(gateway: PaymentGateway, logger = recordingLogger().logger): PaymentsDeps {
  return { db: handle.db, gateway, instanceId: 'unit', logger };
}

/** A paid order of 1000 with a refund of 400 the provider accepted as `re_<tag>`, still pending. */
async function pendingRefund(tag: string): Promise<Refund> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_x',
  });
  await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
  const answer = await refundOrder(
    deps(reads({ refund: async () => ({ kind: 'pending', refundId: `re_${tag}` }) })),
    { orderId: order.id, userId, amount: 400, requestedBy: { kind: 'user', id: userId } },
  );
  expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending' } });
  return answer.refund;
}

/** What `stripe_events` recorded for an event id, if anything. */
async function recorded(eventId: string): Promise<string | undefined> {
  const rows = await handle.sql<{ result: string }[]>`select result from stripe_events where id = ${eventId}`;
  return rows[0]?.result;
}

describe('a refund webhook naming a refund (refund.updated)', () => {
  it('whose refund cannot be re-read is retry_later and not recorded; the redelivery settles it and logs it', async () => {
    const refund = await pendingRefund(`unread_${randomUUID()}`);
    const stripeRefundId = refund.stripeRefundId ?? '';
    const event: PaymentIntentEvent = {
      id: `evt_unread_${refund.id}`,
      type: 'refund.updated',
      paymentIntentId: refund.paymentIntentId,
      refundId: stripeRefundId,
      metadata: { refund_id: refund.id },
    };
    let read: RefundResult = { kind: 'unknown', reason: 'timeout' };
    const gateway = reads({ retrieveRefund: async () => read });
    const first = recordingLogger();
    expect(await applyRefundEvent(deps(gateway, first.logger), event)).toBe('retry_later');
    // Not an unknown refund: nothing recorded, nothing warned, so Stripe's redelivery is applied.
    expect(await recorded(event.id)).toBeUndefined();
    expect(first.entries).toEqual([]);
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'pending' });

    read = { kind: 'succeeded', refundId: stripeRefundId };
    const second = recordingLogger();
    expect(await applyRefundEvent(deps(gateway, second.logger), event)).toBe('finalized');
    expect(await recorded(event.id)).toBe('finalized');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'succeeded' });
    expect(second.entries).toEqual([
      {
        level: 'info',
        msg: 'webhook settled refund',
        eventId: event.id,
        refundId: refund.id,
        status: 'succeeded',
      },
    ]);
  });

  it('whose refund is not ours is recorded unknown_refund and warned with the event and the refund id', async () => {
    const refund = await pendingRefund(`ours_${randomUUID()}`);
    const event: PaymentIntentEvent = {
      id: `evt_foreign_${refund.id}`,
      type: 'refund.updated',
      paymentIntentId: refund.paymentIntentId,
      refundId: 're_foreign',
      metadata: {},
    };
    const gateway = reads({
      retrieveRefund: async (id) => ({ kind: 'succeeded', refundId: id }),
    });
    const { logger, entries } = recordingLogger();
    expect(await applyRefundEvent(deps(gateway, logger), event)).toBe('unknown_refund');
    expect(await recorded(event.id)).toBe('unknown_refund');
    expect(entries).toEqual([
      { level: 'warn', msg: 'webhook for an unknown refund', eventId: event.id, refundId: 're_foreign' },
    ]);
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'pending' });
  });
});

describe('a refund webhook naming a PaymentIntent (charge.refunded)', () => {
  it('whose PaymentIntent the provider lists no refund of is unknown_refund, recorded and warned, not retried', async () => {
    const refund = await pendingRefund(`none_${randomUUID()}`);
    const event: PaymentIntentEvent = {
      id: `evt_empty_${refund.id}`,
      type: 'charge.refunded',
      paymentIntentId: refund.paymentIntentId,
      metadata: {},
    };
    const gateway = reads({ listRefunds: async () => [] });
    const { logger, entries } = recordingLogger();
    // An empty list is a definite answer (the list is consistent), not an unreadable one.
    expect(await applyRefundEvent(deps(gateway, logger), event)).toBe('unknown_refund');
    expect(await recorded(event.id)).toBe('unknown_refund');
    expect(entries).toMatchObject([
      { level: 'warn', msg: 'webhook for an unknown refund', eventId: event.id },
    ]);
  });
});
