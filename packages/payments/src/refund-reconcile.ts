import { orders, refunds } from '@chargeonce/db';
import { and, eq, gte, lte } from 'drizzle-orm';
import { noopLogger, type PaymentsDeps } from './deps';
import type { ProviderRefund } from './gateway';
import { refundOutcome } from './refund';
import { asRefundResult } from './refund-events';
import { settleRefund } from './refund-store';

export type RefundFindingKind =
  /**
   * A refund pending here that the provider had settled, or succeeded here and failed there since:
   * settled the way the provider says (safe to heal).
   */
  | 'refund_healed'
  /** The provider's succeeded refunds of an order do not add up to ours. */
  | 'refund_total_mismatch'
  /** A refund at the provider that no refund row of ours accounts for. */
  | 'refund_unknown';

export interface RefundFinding {
  kind: RefundFindingKind;
  orderId: string;
  paymentIntentId: string;
  detail: string;
}

const sum = (amounts: number[]) => amounts.reduce((a, b) => a + b, 0);

/**
 * For every order with a refund requested in the window: lists the provider's refunds of its
 * PaymentIntent, settles refunds still pending here that the provider has settled (the same
 * conditional statement as the requester's), then compares succeeded totals. Refunds made outside
 * chargeonce on an order it never refunded are not looked for (see the README).
 */
export async function reconcileRefunds(
  deps: PaymentsDeps,
  window: { from: Date; to: Date },
  options: { heal: boolean },
): Promise<{ orders: number; findings: RefundFinding[] }> {
  const logger = deps.logger ?? noopLogger;
  const touched = await deps.db
    .selectDistinct({ id: orders.id, paymentIntentId: refunds.paymentIntentId })
    .from(refunds)
    .innerJoin(orders, eq(orders.id, refunds.orderId))
    .where(and(gte(refunds.createdAt, window.from), lte(refunds.createdAt, window.to)));
  const findings: RefundFinding[] = [];
  for (const order of touched) {
    const listed = await deps.gateway.listRefunds(order.paymentIntentId);
    if (!Array.isArray(listed)) continue; // unreadable now: the next run looks again
    const ours = () => deps.db.select().from(refunds).where(eq(refunds.orderId, order.id));
    const at = { orderId: order.id, paymentIntentId: order.paymentIntentId };
    for (const refund of await ours()) {
      if (!options.heal || refund.status === 'failed') continue;
      const provider = listed.find(
        (p) => p.id === refund.stripeRefundId || p.metadata.refund_id === refund.id,
      );
      const outcome = provider && refundOutcome(asRefundResult(provider), { keyMayHaveExecuted: true });
      // Pending here and final there; or succeeded here and failed there since (its refund.failed
      // webhook lost): settled as the provider says (a reversal only for that refund's own id).
      if (!outcome || outcome.status === 'pending' || outcome.status === refund.status) continue;
      if (await settleRefund(deps.db, refund.id, outcome)) {
        logger.warn(
          { ...at, refundId: refund.id, status: outcome.status },
          'reconciliation settled a refund',
        );
        findings.push({ kind: 'refund_healed', ...at, detail: `${refund.id} ${outcome.status}` });
      }
    }
    const rows = await ours();
    const known = (p: ProviderRefund) =>
      rows.some((r) => r.stripeRefundId === p.id || r.id === p.metadata.refund_id);
    for (const p of listed.filter((l) => !known(l))) {
      findings.push({ kind: 'refund_unknown', ...at, detail: `${p.id} ${p.status} ${p.amount}` });
    }
    const provider = sum(listed.filter((p) => p.status === 'succeeded').map((p) => p.amount));
    const recorded = sum(rows.filter((r) => r.status === 'succeeded').map((r) => r.amount));
    if (provider !== recorded) {
      findings.push({
        kind: 'refund_total_mismatch',
        ...at,
        detail: `provider ${provider} != recorded ${recorded}`,
      });
    }
  }
  return { orders: touched.length, findings };
}
