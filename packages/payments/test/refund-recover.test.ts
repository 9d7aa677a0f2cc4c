import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway, ProviderRefund, RefundResult } from '../src/gateway';
import { createOrder, findOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from '../src/recover';
import { refundOrder } from '../src/refund';
import { applyRefundEvent } from '../src/refund-events';
import { leasePendingRefunds, recoverRefund } from '../src/refund-recover';
import { findRefund, type Refund, settleRefund } from '../src/refund-store';
import { refundReads as reads, refundingProvider, useDatabase } from './support';

/**
 * A refund left pending (its answer lost, or the provider's own refund still pending) and what
 * settles it: recovery, which asks the provider without ever refunding twice, and the refund
 * webhooks, which re-read what an event names. The provider is a fake whose every read a test sets.
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-recover-test', (db) => {
  ({ handle, userId } = db);
});

const POLICY: RecoveryPolicy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0, leaseMs: 60_000 };

function deps(gateway: PaymentGateway, logged: string[] = []): PaymentsDeps {
  const log = (fields: object, msg?: string) =>
    logged.push(`${msg}${'reason' in fields ? ` (${String(fields.reason)})` : ''}`);
  return { db: handle.db, gateway, instanceId: 'unit', logger: { info() {}, warn: log, error: log } };
}

/** A paid order of 1000 with a refund of 400 the provider first answered `first` (left pending). */
async function pendingRefund(first: RefundResult): Promise<Refund> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_x',
  });
  await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
  const answer = await refundOrder(deps(reads({ refund: async () => first })), {
    orderId: order.id,
    userId,
    amount: 400,
    requestedBy: { kind: 'user', id: userId },
  });
  expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending' } });
  return answer.refund;
}

/** The pending refund leased to this worker, as a recovery pass takes it. */
async function leased(refund: Refund, policy = POLICY) {
  const mine = (await leasePendingRefunds(handle.db, policy)).find((r) => r.id === refund.id);
  if (!mine) throw new Error(`refund ${refund.id} not leased`);
  return mine;
}

const listed = (refund: Refund, status: ProviderRefund['status']): ProviderRefund => ({
  id: `re_listed_${refund.id}`,
  status,
  amount: refund.amount,
  failureReason: null,
  metadata: { refund_id: refund.id },
});
const refundedOf = async (refund: Refund) => (await findOrder(handle.db, refund.orderId))?.refundedAmount;

describe('recovery of a pending refund', () => {
  it('whose id the provider gave is re-read, never created again: pending stays pending, then settles', async () => {
    const refund = await pendingRefund({ kind: 'pending', refundId: 're_known' });
    const lease = await leased(refund);
    let status: RefundResult = { kind: 'pending', refundId: 're_known' };
    const gateway = reads({
      retrieveRefund: async (id) => (id === 're_known' ? status : { kind: 'unknown', reason: id }),
    });
    expect(await recoverRefund(deps(gateway), lease, POLICY)).toBe('pending');
    status = { kind: 'succeeded', refundId: 're_known' };
    expect(await recoverRefund(deps(gateway), lease, POLICY)).toBe('succeeded');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'succeeded' });
    expect(await refundedOf(refund)).toBe(400);
  });

  it('within the key window is repeated with its key; a repeat still unknown looks for it in the list', async () => {
    const refund = await pendingRefund({ kind: 'unknown', reason: 'timeout' });
    const lease = await leased(refund);
    const logged: string[] = [];
    let list: ProviderRefund[] | { kind: 'unknown'; reason: string } = [];
    const gateway = reads({
      refund: async () => ({ kind: 'unknown', reason: 'timeout' }),
      listRefunds: async () => list,
    });
    // Not listed yet: the create may still be in flight, so it is not called failed.
    expect(await recoverRefund(deps(gateway, logged), lease, POLICY)).toBe('unknown');
    list = { kind: 'unknown', reason: 'list_timeout' };
    expect(await recoverRefund(deps(gateway, logged), lease, POLICY)).toBe('unknown');
    expect(logged).toEqual(['refund still unknown (repeat_unknown)', 'refund still unknown (list_timeout)']);
    list = [listed(refund, 'succeeded')];
    expect(await recoverRefund(deps(gateway), lease, POLICY)).toBe('succeeded');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({
      status: 'succeeded',
      stripeRefundId: `re_listed_${refund.id}`,
    });
  });

  it('whose repeat is refused for our credentials stays pending, logged with the provider’s reason', async () => {
    const refund = await pendingRefund({ kind: 'unknown', reason: 'timeout' });
    const logged: string[] = [];
    const gateway = reads({
      refund: async () => ({ kind: 'unavailable', reason: 'StripeAuthenticationError' }),
    });
    // The first try may have executed: a refusal now says nothing about it.
    expect(await recoverRefund(deps(gateway, logged), await leased(refund), POLICY)).toBe('unknown');
    expect(logged).toEqual(['refund still unknown (StripeAuthenticationError)']);
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'pending' });
  });

  it('past the key window is never repeated: not in the list, it never ran (failed, the reservation given back)', async () => {
    const refund = await pendingRefund({ kind: 'unknown', reason: 'timeout' });
    const pastWindow = { ...POLICY, keyWindowMs: 0 };
    const gateway = reads({ listRefunds: async () => [] });
    expect(await recoverRefund(deps(gateway), await leased(refund, pastWindow), pastWindow)).toBe('failed');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({
      status: 'failed',
      errorCode: 'abandoned',
    });
    expect(await refundedOf(refund)).toBe(0);
  });

  it('settled by someone else meanwhile is already_final; one whose lease another worker took is left alone', async () => {
    const refund = await pendingRefund({ kind: 'pending', refundId: 're_raced' });
    const lease = await leased(refund);
    const gateway = reads({
      retrieveRefund: async (id) => {
        // A webhook settles it while recovery is at the provider.
        await settleRefund(handle.db, refund.id, { status: 'succeeded', stripeRefundId: id });
        return { kind: 'succeeded', refundId: id };
      },
    });
    expect(await recoverRefund(deps(gateway), lease, POLICY)).toBe('already_final');

    const other = await pendingRefund({ kind: 'pending', refundId: 're_other' });
    const mine = await leased(other);
    await handle.sql`update refunds set recovery_runs = recovery_runs + 1 where id = ${other.id}`;
    expect(await recoverRefund(deps(reads()), mine, POLICY)).toBe('taken_over');
    expect(await findRefund(handle.db, { id: other.id })).toMatchObject({ status: 'pending' });
  });
});

describe('a refund webhook naming a PaymentIntent (charge.refunded)', () => {
  const eventFor = (refund: Refund, n: number) => ({
    id: `evt_${n}_${refund.id}`,
    type: 'charge.refunded',
    paymentIntentId: refund.paymentIntentId,
    metadata: {},
  });

  it('re-reads every refund of it: unreadable is retry_later, ours still pending is pending, then it settles ours', async () => {
    const refund = await pendingRefund({ kind: 'unknown', reason: 'timeout' });
    let list: ProviderRefund[] | { kind: 'unknown'; reason: string } = { kind: 'unknown', reason: 'timeout' };
    const gateway = reads({ listRefunds: async () => list });
    const event = eventFor(refund, 1);
    expect(await applyRefundEvent(deps(gateway), event)).toBe('retry_later');
    list = [listed(refund, 'pending')];
    expect(await applyRefundEvent(deps(gateway), event)).toBe('pending');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'pending' });
    // Failed at the provider with no reason given: failed, the reservation given back.
    list = [listed(refund, 'failed')];
    expect(await applyRefundEvent(deps(gateway), event)).toBe('finalized');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({
      status: 'failed',
      errorCode: 'failed',
    });
    expect(await refundedOf(refund)).toBe(0);
    expect(await applyRefundEvent(deps(gateway), event)).toBe('duplicate');
    // Another event for it, after: nothing left to settle.
    expect(await applyRefundEvent(deps(gateway), eventFor(refund, 2))).toBe('already_final');
  });

  it('with no refund of ours among them is unknown_refund; one naming nothing is ignored', async () => {
    const refund = await pendingRefund({ kind: 'unknown', reason: 'timeout' });
    const logged: string[] = [];
    const foreign = { ...listed(refund, 'succeeded'), id: 're_foreign', metadata: {} };
    // Metadata that only contains one of our ids (text before or after it) names no refund of ours.
    const around = [`x${refund.id}`, `${refund.id}x`].map((refundId, i) => ({
      ...foreign,
      id: `re_foreign_${i}`,
      metadata: { refund_id: refundId },
    }));
    const gateway = reads({ listRefunds: async () => [foreign, ...around] });
    expect(await applyRefundEvent(deps(gateway, logged), eventFor(refund, 3))).toBe('unknown_refund');
    expect(logged).toEqual(['webhook for an unknown refund']);
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({ status: 'pending' });
    const nothing = {
      id: `evt_none_${refund.id}`,
      type: 'charge.refunded',
      paymentIntentId: null,
      metadata: {},
    };
    expect(await applyRefundEvent(deps(gateway), nothing)).toBe('ignored');
  });
});
