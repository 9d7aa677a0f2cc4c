import { isAttemptInFlight, isPaid, orders, PAID_STATUSES, paymentAttempts } from '@chargeonce/db';
import { and, eq, gte, inArray, lte, or } from 'drizzle-orm';
import { settleAuthorization } from './capture-store';
import { noopLogger, type PaymentsDeps } from './deps';
import type { ProviderPaymentIntent } from './gateway';
import { isUuid } from './ids';
import { type HoldFindingKind, reconcileHolds } from './reconcile-holds';
import { type RefundFindingKind, reconcileRefunds } from './refund-reconcile';
import { finalizeAttempt } from './settle';

/** The window a reconciliation checks unless told otherwise: the last day. */
export const DEFAULT_RECONCILE_WINDOW_MS = 24 * 60 * 60_000;

export type FindingKind =
  /** A succeeded PaymentIntent whose attempt was still processing: finalized (safe to heal). */
  | 'orphan_healed'
  /** A succeeded PaymentIntent that no paid order accounts for, and that could not be healed. */
  | 'orphan'
  /** A paid order whose PaymentIntent is not succeeded at the provider. */
  | 'paid_without_succeeded_payment_intent'
  | 'amount_mismatch'
  | 'currency_mismatch'
  /** More than one succeeded PaymentIntent for one order: a double charge. */
  | 'multiple_succeeded'
  | RefundFindingKind
  | HoldFindingKind;

export interface Finding {
  kind: FindingKind;
  orderId?: string | undefined;
  paymentIntentId?: string | undefined;
  detail: string;
}

export interface ReconcileReport {
  window: { from: string; to: string };
  providerPaymentIntents: number;
  providerSucceeded: number;
  paidOrders: number;
  /** Orders with a refund requested in the window, whose refunds were compared. */
  refundedOrders: number;
  findings: Finding[];
  /** Findings that were not healed: non-zero means someone must look. */
  unexplained: number;
}

/**
 * Compares the provider's PaymentIntents created in a window with the database, heals what is safe
 * to heal (a succeeded PaymentIntent whose attempt is still `processing` is finalized with the same
 * conditional update as `orders.pay`; a refund pending here that the provider settled), compares
 * refunded totals of the orders refunded in the window, and reports everything else.
 */
export async function reconcile(
  deps: PaymentsDeps,
  window: { from: Date; to: Date },
  options: { heal?: boolean } = {},
): Promise<ReconcileReport> {
  const logger = deps.logger ?? noopLogger;
  const heal = options.heal ?? true;
  const findings: Finding[] = [];
  const intents: ProviderPaymentIntent[] = [];
  for await (const pi of deps.gateway.listPaymentIntents({
    from: Math.floor(window.from.getTime() / 1000),
    to: Math.ceil(window.to.getTime() / 1000),
  })) {
    intents.push(pi);
  }
  const succeeded = intents.filter((pi) => pi.status === 'succeeded');

  const byOrder = new Map<string, ProviderPaymentIntent[]>();
  for (const pi of succeeded) {
    const orderId = pi.metadata.order_id ?? `(no order_id on ${pi.id})`;
    byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), pi]);
  }
  for (const [orderId, list] of byOrder) {
    if (list.length > 1) {
      findings.push({
        kind: 'multiple_succeeded',
        orderId,
        detail: `${list.length} succeeded PaymentIntents: ${list.map((pi) => pi.id).join(', ')}`,
      });
    }
  }

  const ids = succeeded.map((pi) => pi.id);
  const attempts = ids.length
    ? await deps.db
        .select({ attempt: paymentAttempts, order: orders })
        .from(paymentAttempts)
        .innerJoin(orders, eq(orders.id, paymentAttempts.orderId))
        .where(
          or(
            inArray(paymentAttempts.paymentIntentId, ids),
            inArray(
              paymentAttempts.id,
              succeeded.map((pi) => pi.metadata.attempt_id).filter((id): id is string => isUuid(id)),
            ),
          ),
        )
    : [];

  for (const pi of succeeded) {
    const match = attempts.find(
      (a) => a.attempt.paymentIntentId === pi.id || a.attempt.id === pi.metadata.attempt_id,
    );
    if (!match) {
      findings.push({
        kind: 'orphan',
        paymentIntentId: pi.id,
        orderId: pi.metadata.order_id,
        detail: 'no attempt',
      });
      continue;
    }
    const { attempt, order } = match;
    if (order.amount !== pi.amount) {
      findings.push({
        kind: 'amount_mismatch',
        orderId: order.id,
        paymentIntentId: pi.id,
        detail: `${order.amount} != ${pi.amount}`,
      });
    }
    if (order.currency !== pi.currency) {
      findings.push({
        kind: 'currency_mismatch',
        orderId: order.id,
        paymentIntentId: pi.id,
        detail: `${order.currency} != ${pi.currency}`,
      });
    }
    if (isPaid(order.status) && order.paymentIntentId === pi.id) continue;
    const canHeal = isAttemptInFlight(attempt.status) || attempt.status === 'authorized';
    if (heal && canHeal) {
      // Captured while ours was in flight or still held (the capture's answer was lost).
      const healed =
        attempt.status === 'authorized'
          ? await settleAuthorization(deps.db, {
              orderId: order.id,
              paymentIntentId: pi.id,
              outcome: { kind: 'captured', amountReceived: pi.amountReceived },
            })
          : await finalizeAttempt(deps.db, {
              orderId: order.id,
              attemptId: attempt.id,
              claimVersion: attempt.claimVersion,
              outcome: { status: 'succeeded', paymentIntentId: pi.id, amountReceived: pi.amountReceived },
            });
      if (healed) {
        logger.warn(
          { orderId: order.id, paymentIntentId: pi.id },
          'reconciliation finalized an orphaned payment',
        );
        findings.push({
          kind: 'orphan_healed',
          orderId: order.id,
          paymentIntentId: pi.id,
          detail: 'finalized',
        });
        continue;
      }
    }
    findings.push({
      kind: 'orphan',
      orderId: order.id,
      paymentIntentId: pi.id,
      detail: `order ${order.status} with ${order.paymentIntentId ?? 'no payment intent'}, attempt ${attempt.status}`,
    });
  }

  // Paid orders in the window must each have a succeeded PaymentIntent at the provider.
  const paid = await deps.db
    .select()
    .from(orders)
    .where(
      and(
        inArray(orders.status, [...PAID_STATUSES]),
        gte(orders.paidAt, window.from),
        lte(orders.paidAt, window.to),
      ),
    );
  const succeededIds = new Set(ids);
  for (const order of paid) {
    if (order.paymentIntentId && succeededIds.has(order.paymentIntentId)) continue;
    // Created before the window? Ask for it directly before calling it a finding.
    const current = order.paymentIntentId ? await deps.gateway.retrieve(order.paymentIntentId) : undefined;
    if (current?.kind === 'succeeded') continue;
    findings.push({
      kind: 'paid_without_succeeded_payment_intent',
      orderId: order.id,
      paymentIntentId: order.paymentIntentId ?? undefined,
      detail: `provider says ${current?.kind ?? 'nothing'}`,
    });
  }

  findings.push(...(await reconcileHolds(deps, intents, { heal })));
  const refunded = await reconcileRefunds(deps, window, { heal });
  findings.push(...refunded.findings);

  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    providerPaymentIntents: intents.length,
    providerSucceeded: succeeded.length,
    paidOrders: paid.length,
    refundedOrders: refunded.orders,
    findings,
    unexplained: findings.filter((f) => !HEALED.includes(f.kind)).length,
  };
}

const HEALED: FindingKind[] = ['orphan_healed', 'refund_healed', 'authorization_healed'];
