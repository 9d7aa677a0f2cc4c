import type { FaultRule, Rng } from '@chargeonce/stripe-emulator';
import type { KillPlan, OrderPlan, Scenario } from './scenario';

/** Test cards whose refunds change status later: pending then succeeded, or succeeded then failed. */
export const PENDING_REFUND = 'pm_card_pendingRefund';
export const REFUND_FAIL = 'pm_card_refundFail';

/**
 * One `orders.refund` of a paid order, under its own caller key, once the order's pays (and its
 * cancel) are answered. Refunds of one order with the same `afterMs` go out together.
 */
export interface RefundPlan {
  afterMs: number;
  /** Minor units; null = a full refund (all that is left when it runs). */
  amount: number | null;
  /** The same request (one key) fired this many times at once through different instances. */
  copies: number;
}

/** One `orders.cancel` of an order, under its own caller key, racing pays on the same order. */
export interface CancelPlan {
  /** The first pays, or the re-pays after a decline (the order `failed`); without re-pays, after the first. */
  against: 'pay' | 'repay';
  /** How long after those pays it goes out; negative: before them (so that it can win). */
  offsetMs: number;
  copies: number;
}

/** A share in [min, max], rounded to hundredths (fault probabilities, drop rates). */
export const p = (rng: Rng, min: number, max: number) =>
  Math.round((min + rng.next() * (max - min)) * 100) / 100;

/** A paying card: mostly `pm_card_visa`; some whose refunds go pending or fail asynchronously. */
export function refundCard(rng: Rng): OrderPlan['card'] {
  const roll = rng.next();
  return roll < 0.15 ? PENDING_REFUND : roll < 0.3 ? REFUND_FAIL : 'pm_card_visa';
}

/**
 * Half the orders that can end paid get one to four refunds: full or partial, often at the same
 * moment (so they race for what is left), sometimes one request sent twice at once.
 */
export function refundPlans(rng: Rng, amount: number): RefundPlan[] {
  if (!rng.chance(0.5)) return [];
  return Array.from({ length: rng.int(1, 4) }, () => ({
    afterMs: rng.pick([0, 0, 0, 100, 400]),
    amount: rng.chance(0.35)
      ? null
      : Math.max(1, Math.round(amount * rng.pick([0.1, 0.25, 0.34, 0.5, 0.75]))),
    copies: rng.chance(0.3) ? 2 : 1,
  }));
}

/** A fifth of the orders get a cancel, against their first pays or (declined ones) their re-pays. */
export function cancelPlan(rng: Rng, declined: boolean): CancelPlan | null {
  if (!rng.chance(0.2)) return null;
  return {
    against: declined && rng.chance(0.7) ? 'repay' : 'pay',
    offsetMs: rng.pick([-30, -10, -3, 0, 0, 5, 20, 80]),
    copies: rng.chance(0.3) ? 2 : 1,
  };
}

/** One to three faults on the refund calls: the create, and the lookups recovery and webhooks make. */
export function refundFaultRules(rng: Rng, timeoutMs: number, hangMaxMs: number): FaultRule[] {
  const create = 'refunds.create';
  const candidates: (() => FaultRule)[] = [
    () => ({ fault: 'error_before', operation: create, probability: p(rng, 0.05, 0.25) }),
    () => ({ fault: 'error_after', operation: create, probability: p(rng, 0.05, 0.2) }),
    () => ({ fault: 'reset_after', operation: create, probability: p(rng, 0.1, 0.3) }),
    () => ({
      fault: 'hang',
      operation: create,
      probability: p(rng, 0.05, 0.15),
      ...(rng.chance(0.5) ? { ms: rng.int(timeoutMs + 100, hangMaxMs) } : {}),
    }),
    () => ({ fault: 'in_use_409', operation: create, probability: p(rng, 0.05, 0.2) }),
    () => ({
      fault: 'error_before',
      operation: ['refunds.retrieve', 'refunds.list'],
      probability: p(rng, 0.1, 0.3),
    }),
  ];
  const chosen = new Set<number>();
  const count = rng.int(1, 3);
  while (chosen.size < count) chosen.add(rng.int(0, candidates.length - 1));
  return [...chosen].sort((a, b) => a - b).map((i) => candidates[i]!());
}

/** Zero to two kills of an instance serving a refund, from mid-load to past its end (refunds follow pays). */
export function refundKills(rng: Rng, loadMs: number): KillPlan[] {
  return Array.from({ length: rng.int(0, 2) }, () => ({
    atMs: rng.int(Math.round(loadMs * 0.5), loadMs + 2000),
    trigger: 'refund_in_flight' as const,
    pick: rng.int(0, 2),
    restartAfterMs: rng.chance(0.8) ? rng.int(0, 15) * 100 : null,
  }));
}

/** The mix's part of the scenario's line. */
export function describeMix(s: Scenario): string {
  const refunds = s.orders.flatMap((o) => o.refunds);
  const cancels = s.orders.filter((o) => o.cancel);
  const cards = (card: string) => s.orders.filter((o) => o.card === card).length;
  return [
    `refunds=${refunds.length} on ${s.orders.filter((o) => o.refunds.length > 0).length} orders (full ${refunds.filter((r) => r.amount === null).length}, dup ${refunds.filter((r) => r.copies > 1).length})`,
    `cards=pendingRefund${cards(PENDING_REFUND)},refundFail${cards(REFUND_FAIL)} refundDelay=${s.refundDelayMs}ms`,
    `cancels=${cancels.length} (vs repay ${cancels.filter((o) => o.cancel?.against === 'repay').length})`,
  ].join(' ');
}
