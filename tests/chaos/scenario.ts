import { minimumChargeAmount } from '@chargeonce/payments';
import type { FaultRule } from '@chargeonce/stripe-emulator';
import { createRng, type Rng } from '@chargeonce/stripe-emulator';
import { type DbFaultPlan, describeDbFaults } from './db-faults';
import { type ChallengePlan, describeHolds, drawHolds, type HoldPlan, type THREE_DS } from './holds';
import {
  type CancelPlan,
  cancelPlan,
  describeMix,
  type PENDING_REFUND,
  p,
  type REFUND_FAIL,
  type RefundPlan,
  refundCard,
  refundFaultRules,
  refundKills,
  refundPlans,
} from './mix';
import { faultRules } from './provider-faults';

export const VISA = 'pm_card_visa';
export const DECLINED = 'pm_card_chargeDeclined';

export interface OrderPlan {
  amount: number;
  currency: string;
  card: typeof VISA | typeof DECLINED | typeof PENDING_REFUND | typeof REFUND_FAIL | typeof THREE_DS;
  /** `manual`: paying only authorizes; `hold` says what is done with the hold (holds.ts). */
  captureMethod: 'automatic' | 'manual';
  hold: HoldPlan | null;
  /** The 3-D Secure customer (card `THREE_DS`; null otherwise). */
  challenge: ChallengePlan | null;
  /** Concurrent pays fired at once, each through a different live instance (duplicates). */
  copies: number;
  /** After a decline, pay again with `pm_card_visa` (this many concurrent pays; 0 = never). */
  repayCopies: number;
  /** When the pays go out, from the start of the load. */
  startMs: number;
  /** A provider delay aimed at this order's create (by metadata), so kills can land mid-call. */
  slow: { fault: 'latency' | 'hang'; ms: number } | null;
  /** Refunds once the pays (and the cancel) are answered: full, partial, concurrent, duplicated. */
  refunds: RefundPlan[];
  /** A cancel racing the pays (null: none). */
  cancel: CancelPlan | null;
}

/**
 * An `orders.create` fired during the load by a caller with its own idempotency key, `copies`
 * times at once through different instances (a service that retries one create in parallel).
 */
export interface CreatePlan {
  startMs: number;
  copies: number;
  amount: number;
  currency: string;
}

export type KillTrigger =
  /** SIGKILL a random live instance at `atMs`. */
  | 'time'
  /** SIGKILL the instance whose provider call for an attempt is in flight. */
  | 'in_flight'
  /** SIGKILL the instance that claimed an attempt the provider has already charged (before finalize). */
  | 'after_charge'
  /** SIGKILL an instance while it serves a refund (the mix's kills, after the pays). */
  | 'refund_in_flight'
  /** SIGKILL the instance whose capture or void of an order is at the provider (holds.ts). */
  | 'capture_in_flight'
  /** SIGKILL the instance whose capture or void the provider executed, before it is recorded. */
  | 'after_capture';

export interface KillPlan {
  atMs: number;
  trigger: KillTrigger;
  /** Victim for `time` (and the fallback when no better victim shows up): index among live instances. */
  pick: number;
  /** Restart the slot (on a new port) this long after the kill; null = stays down until the settle. */
  restartAfterMs: number | null;
}

export interface Scenario {
  seed: number;
  instances: number;
  stripeTimeoutMs: number;
  maxNetworkRetries: number;
  payDeadlineMs: number;
  recovery: { intervalMs: number; graceMs: number; leaseMs: number; keyWindowMs: number };
  /** Prune provider idempotency keys older than the servers' key window, all along. */
  pruneKeys: boolean;
  /** Fault rules for every request (slow orders add their own rules in front at run time). */
  faults: FaultRule[];
  webhooks: {
    slot: number;
    duplicateProbability: number;
    reorderWindowMs: number;
    delayMs: number;
    retryBaseMs: number;
  };
  loadMs: number;
  orders: OrderPlan[];
  kills: KillPlan[];
  /** Creates during the load (every order of `orders` is created first, keyed too). */
  creates: CreatePlan[];
  /**
   * Client-side fault: the share of answers to mutations that are dropped after the server sent
   * them (the caller sees a dead connection); the typed client retries them with their key.
   */
  dropAnswers: number;
  /** How long the test cards' refunds keep their first status at the provider. */
  refundDelayMs: number;
  /** The servers' CHARGEONCE_CHALLENGE_TIMEOUT_MS: abandoned challenges are canceled within the run. */
  challengeTimeoutMs: number;
  /** Database crashes, kills and dropped connections during the load (`--db-faults`; db-faults.ts). */
  dbFaults: DbFaultPlan[];
}

const CURRENCIES = ['usd', 'eur', 'gbp', 'jpy'] as const;

/** A scenario is a pure function of its seed: `--seed S --runs 1` replays it. */
export function generateScenario(seed: number): Scenario {
  const rng = createRng(seed);
  const instances = rng.int(2, 3);
  const stripeTimeoutMs = rng.int(3, 8) * 100;
  const maxNetworkRetries = rng.int(0, 2);
  // The longest a hang holds a create before it executes (past the client's timeout).
  const hangMaxMs = stripeTimeoutMs + 600;
  // A lease must outlast the longest provider call a worker makes (every SDK try and its backoff —
  // stripe-node also retries a reset connection once on its own — and a hang executing late), or a
  // second worker could re-drive the attempt while the first call is still in flight.
  const longestCallMs = (maxNetworkRetries + 1) * (stripeTimeoutMs + 1000) + hangMaxMs;
  const leaseMs = Math.max(2000, longestCallMs + 1000);
  const graceMs = rng.int(10, 20) * 100;
  // Past the key window recovery only looks the PaymentIntent up, and "not found" means "never
  // charged": so no create of the attempt may still be on its way then. The payer's own create ends
  // within longestCallMs of its claim, and a worker's create within its lease.
  const recovery = {
    intervalMs: rng.int(1, 3) * 100,
    graceMs,
    leaseMs,
    keyWindowMs: graceMs + longestCallMs + rng.int(10, 30) * 100,
  };
  const loadMs = rng.int(15, 40) * 100;
  const orderCount = rng.int(10, 30);
  const orders = Array.from({ length: orderCount }, () =>
    orderPlan(rng, instances, loadMs, stripeTimeoutMs, hangMaxMs),
  );
  const kills = Array.from({ length: rng.int(1, 3) }, () => killPlan(rng, loadMs));
  kills.sort((a, b) => a.atMs - b.atMs);
  const scenario: Scenario = {
    seed,
    instances,
    stripeTimeoutMs,
    maxNetworkRetries,
    payDeadlineMs: rng.int(10, 30) * 100,
    recovery,
    pruneKeys: rng.chance(0.4),
    faults: faultRules(rng, stripeTimeoutMs, hangMaxMs),
    webhooks: {
      slot: rng.int(0, instances - 1),
      duplicateProbability: rng.pick([0, 0.2, 0.5, 1]),
      reorderWindowMs: rng.pick([0, 100, 300]),
      // Sometimes slower than recovery, so that recovery (and its lookup past the key window) wins.
      delayMs: rng.pick([0, 50, 300, 3000]),
      retryBaseMs: rng.int(1, 3) * 100,
    },
    loadMs,
    orders,
    kills,
    creates: [],
    dropAnswers: 0,
    refundDelayMs: 0,
    challengeTimeoutMs: 0,
    dbFaults: [],
  };
  // Drawn last, so that what came before is what the same seed always drew.
  scenario.dropAnswers = p(rng, 0.05, 0.3);
  scenario.creates = Array.from({ length: rng.int(5, 20) }, () => {
    const currency = rng.pick(CURRENCIES);
    return {
      startMs: rng.int(0, loadMs),
      copies: rng.chance(0.4) ? 2 : 1,
      amount: Math.max(rng.int(0, 99_999), minimumChargeAmount(currency)),
      currency,
    };
  });
  // The refund and cancel mix (mix.ts), drawn after all of the above for the same reason.
  scenario.refundDelayMs = rng.int(2, 15) * 100;
  for (const order of scenario.orders) {
    if (order.card === VISA) order.card = refundCard(rng);
    const declined = order.card === DECLINED;
    order.refunds = declined && order.repayCopies === 0 ? [] : refundPlans(rng, order.amount);
    order.cancel = cancelPlan(rng, declined);
  }
  scenario.faults.push(...refundFaultRules(rng, stripeTimeoutMs, hangMaxMs));
  scenario.kills.push(...refundKills(rng, loadMs));
  scenario.kills.sort((a, b) => a.atMs - b.atMs);
  // Holds (manual capture) and 3-D Secure challenges (holds.ts), drawn last for the same reason.
  drawHolds(rng, scenario);
  return scenario;
}

function orderPlan(
  rng: Rng,
  instances: number,
  loadMs: number,
  timeoutMs: number,
  hangMaxMs: number,
): OrderPlan {
  const declined = rng.chance(0.25);
  const slowRoll = rng.next();
  const amount = rng.int(0, 99_999);
  const currency = rng.pick(CURRENCIES);
  return {
    // Never under the provider's minimum charge: such an order is refused when it is created.
    amount: Math.max(amount, minimumChargeAmount(currency)),
    currency,
    card: declined ? DECLINED : VISA,
    copies: rng.chance(0.5) ? rng.int(2, Math.max(2, instances)) : 1,
    repayCopies: declined && rng.chance(0.7) ? rng.int(1, 2) : 0,
    startMs: rng.int(0, loadMs),
    slow:
      slowRoll < 0.1
        ? { fault: 'latency', ms: Math.round(timeoutMs * (0.5 + rng.next() * 0.4)) }
        : slowRoll < 0.2
          ? { fault: 'hang', ms: rng.int(timeoutMs + 100, hangMaxMs) }
          : null,
    refunds: [],
    cancel: null,
    captureMethod: 'automatic',
    hold: null,
    challenge: null,
  };
}

function killPlan(rng: Rng, loadMs: number): KillPlan {
  return {
    atMs: rng.int(Math.round(loadMs * 0.1), loadMs),
    trigger: rng.pick(['time', 'in_flight', 'after_charge'] as const),
    pick: rng.int(0, 2),
    restartAfterMs: rng.chance(0.8) ? rng.int(0, 15) * 100 : null,
  };
}

/** One line per scenario, for the log and for replaying a failure. */
export function describeScenario(s: Scenario): string {
  const faults = s.faults
    .map((r) => {
      const refund = [r.operation ?? '*'].flat().some((op) => op.startsWith('refunds.'));
      return `${refund ? 'refund_' : ''}${r.fault}${r.probability !== undefined ? `@${r.probability}` : ''}`;
    })
    .join(',');
  const declined = s.orders.filter((o) => o.card === DECLINED).length;
  const duplicated = s.orders.filter((o) => o.copies > 1).length;
  const slow = s.orders.filter((o) => o.slow).length;
  const kills = s.kills.map(
    (k) => `${k.trigger}@${k.atMs}${k.restartAfterMs === null ? '' : `+restart${k.restartAfterMs}`}`,
  );
  return [
    `seed=${s.seed}`,
    `instances=${s.instances}`,
    `timeout=${s.stripeTimeoutMs}ms retries=${s.maxNetworkRetries}`,
    `recovery=${s.recovery.intervalMs}/${s.recovery.graceMs}/${s.recovery.leaseMs}/window${s.recovery.keyWindowMs}ms`,
    `prune=${s.pruneKeys}`,
    `orders=${s.orders.length} (dup ${duplicated}, declined ${declined}, slow ${slow})`,
    `faults=[${faults}]`,
    `webhooks=slot${s.webhooks.slot} dup${s.webhooks.duplicateProbability} reorder${s.webhooks.reorderWindowMs} delay${s.webhooks.delayMs}`,
    `kills=[${kills.join(',')}]`,
    `creates=${s.creates.length} (dup ${s.creates.filter((c) => c.copies > 1).length})`,
    `dropAnswers=${s.dropAnswers}`,
    describeMix(s),
    describeHolds(s),
    ...(s.dbFaults.length ? [`db_faults=[${describeDbFaults(s.dbFaults)}]`] : []),
  ].join(' ');
}
