import type { FaultRule, Rng } from '@chargeonce/stripe-emulator';
import { p } from './mix';
import type { KillPlan, Scenario } from './scenario';

/** The test card that asks for 3-D Secure on every payment (its challenge completes to a charge). */
export const THREE_DS = 'pm_card_threeDSecure2Required';

/**
 * What becomes of an order authorized to capture later (`captureMethod: 'manual'`), once its pays
 * are answered and it is authorized: a capture and/or a void, each one logical call under its own
 * caller key through the merchant's service token, `copies` times at once. With both, they race:
 * the void goes `voidOffsetMs` after the capture (negative: before it).
 */
export interface HoldPlan {
  /** From the moment the order is seen authorized. */
  afterMs: number;
  /** `amount`: minor units (a partial capture releases the rest); null: all of it. */
  capture: { amount: number | null; copies: number } | null;
  void: { copies: number } | null;
  voidOffsetMs: number;
}

/**
 * The customer of a 3-D Secure order: once the challenge is open, after `afterMs` they complete
 * it, fail it, or walk away (abandon: recovery cancels it after the servers' challenge timeout).
 * Back from the bank they look at the order (`orders.get` re-reads the PaymentIntent); after a
 * failure, `repay` pays again with `pm_card_visa`.
 */
export interface ChallengePlan {
  action: 'complete' | 'fail' | 'abandon';
  afterMs: number;
  repay: boolean;
}

/**
 * Draws the hold and challenge mix over a scenario's orders (after everything else, so that the
 * rest of a seed's plan is what it always drew): a quarter of the orders are manual-capture, about
 * one in six pay with the 3-D Secure card (some of those manual-capture too), and the servers get a
 * challenge timeout of 2–5 s so that abandoned challenges are canceled within the run.
 */
export function drawHolds(rng: Rng, scenario: Scenario): void {
  scenario.challengeTimeoutMs = rng.int(20, 50) * 100;
  for (const order of scenario.orders) {
    const threeDs = rng.chance(0.17);
    const manual = rng.chance(threeDs ? 0.35 : 0.25);
    if (threeDs) {
      order.card = THREE_DS;
      order.repayCopies = 0;
      // A cancel only meets a challenge it cannot take (PAYMENT_IN_PROGRESS); kept out so that an
      // abandoned challenge's order must end payable.
      order.cancel = null;
      order.challenge = challengePlan(rng, scenario.challengeTimeoutMs);
      if (order.challenge.action !== 'complete') order.refunds = [];
    }
    if (manual) {
      order.captureMethod = 'manual';
      order.hold = holdPlan(rng, order.amount);
      // Refunds follow a capture; a hold that is only voided (or left open) has nothing to refund.
      if (!order.hold?.capture) order.refunds = [];
    }
  }
  scenario.faults.push(...holdFaultRules(rng, scenario.stripeTimeoutMs));
  scenario.kills.push(...holdKills(rng, scenario.loadMs));
  scenario.kills.sort((a, b) => a.atMs - b.atMs);
}

function challengePlan(rng: Rng, timeoutMs: number): ChallengePlan {
  const roll = rng.next();
  const action = roll < 0.5 ? 'complete' : roll < 0.75 ? 'fail' : 'abandon';
  return {
    action,
    // Now and then past the timeout: the customer's answer races recovery's cancel.
    afterMs: rng.int(50, Math.round(timeoutMs * 1.2)),
    repay: action === 'fail' && rng.chance(0.6),
  };
}

/** Capture only, void only, or both racing; a tenth of the holds are left open (never decided). */
function holdPlan(rng: Rng, amount: number): HoldPlan | null {
  const roll = rng.next();
  if (roll < 0.1) return null;
  const capture = roll < 0.75;
  const voided = roll >= 0.5;
  return {
    afterMs: rng.pick([0, 0, 50, 200]),
    capture: capture
      ? {
          amount: rng.chance(0.35) ? Math.max(1, Math.round(amount * rng.pick([0.25, 0.5, 0.9]))) : null,
          copies: rng.chance(0.3) ? 2 : 1,
        }
      : null,
    void: voided ? { copies: rng.chance(0.3) ? 2 : 1 } : null,
    voidOffsetMs: rng.pick([-20, -5, 0, 0, 0, 3, 10, 40]),
  };
}

/**
 * One to three faults on captures and voids: slow calls (so kills land while one is at the
 * provider), 5xx before and after executing, lost answers, hangs past the client timeout.
 */
function holdFaultRules(rng: Rng, timeoutMs: number): FaultRule[] {
  const ops = ['payment_intents.capture', 'payment_intents.cancel'];
  const candidates: (() => FaultRule)[] = [
    () => ({
      fault: 'latency',
      operation: ops,
      probability: p(rng, 0.2, 0.5),
      ms: rng.int(Math.round(timeoutMs * 0.3), Math.round(timeoutMs * 0.9)),
    }),
    () => ({ fault: 'error_before', operation: ops, probability: p(rng, 0.05, 0.2) }),
    () => ({ fault: 'error_after', operation: ops, probability: p(rng, 0.05, 0.2) }),
    () => ({ fault: 'reset_after', operation: ops, probability: p(rng, 0.1, 0.3) }),
    () => ({ fault: 'hang', operation: ops, probability: p(rng, 0.05, 0.15), ms: timeoutMs + 300 }),
  ];
  const chosen = new Set<number>();
  const count = rng.int(1, 3);
  while (chosen.size < count) chosen.add(rng.int(0, candidates.length - 1));
  return [...chosen].sort((a, b) => a - b).map((i) => candidates[i]!());
}

/**
 * One to two kills aimed at captures and voids (they follow the pays): of the instance whose call
 * is at the provider, or of the one whose call the provider has executed but that has not recorded
 * it yet (between the capture and its finalize).
 */
function holdKills(rng: Rng, loadMs: number): KillPlan[] {
  return Array.from({ length: rng.int(1, 2) }, () => ({
    atMs: rng.int(Math.round(loadMs * 0.4), loadMs + 2500),
    trigger: rng.pick(['capture_in_flight', 'after_capture'] as const),
    pick: rng.int(0, 2),
    restartAfterMs: rng.chance(0.8) ? rng.int(0, 15) * 100 : null,
  }));
}

/** The holds' and challenges' part of the scenario's line. */
export function describeHolds(s: Scenario): string {
  const manual = s.orders.filter((o) => o.captureMethod === 'manual');
  const holds = manual.flatMap((o) => (o.hold ? [o.hold] : []));
  const challenges = s.orders.flatMap((o) => (o.challenge ? [o.challenge] : []));
  const actions = (a: ChallengePlan['action']) => challenges.filter((c) => c.action === a).length;
  return [
    `holds=${manual.length} (capture ${holds.filter((h) => h.capture && !h.void).length}, void ${holds.filter((h) => h.void && !h.capture).length}, race ${holds.filter((h) => h.capture && h.void).length}, partial ${holds.filter((h) => h.capture?.amount != null).length}, open ${manual.length - holds.length})`,
    `challenges=${challenges.length} (complete ${actions('complete')}, fail ${actions('fail')}, abandon ${actions('abandon')}) timeout=${s.challengeTimeoutMs}ms`,
  ].join(' ');
}
