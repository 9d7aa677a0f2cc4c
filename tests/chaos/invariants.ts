import { type OrderStatus, PAID_STATUSES } from '@chargeonce/db';
import type { EmulatedPaymentIntent } from '@chargeonce/stripe-emulator';

export interface OrderRow {
  id: string;
  status: string;
  payment_intent_id: string | null;
  amount: number;
  currency: string;
  /** Refunds reserved or made (pending + succeeded). */
  refunded_amount: number;
  /** `manual`: paying only authorized (absent: automatic). */
  capture_method?: string;
  /** What was taken (the amount, or less after a partial capture); null until paid (absent: unknown). */
  captured_amount?: number | null;
}

/** Paid, and possibly refunded since: the order's PaymentIntent stays its payment. */
export const isPaidRow = (o: OrderRow | undefined) =>
  o !== undefined && PAID_STATUSES.includes(o.status as OrderStatus);

export interface StuckAttempt {
  id: string;
  order_id: string;
  claimed_by: string;
  idempotency_key: string;
}

/** What a payer was told: `charged` / `already_paid` name the PaymentIntent that paid the order. */
export interface PayAnswer {
  orderId: string;
  /** The pay's outcome, or `declined` (PAYMENT_REQUIRED). */
  outcome: string;
  paymentIntentId: string | undefined;
  /** The card the pay named (undefined: the order's own). */
  paymentMethodId?: string | undefined;
}

/** What a creator was told: the order made under its idempotency key. */
export interface CreateAnswer {
  key: string;
  orderId: string;
}

/** An order of the scenario's user, with the key it was created under (null: none). */
export interface CreatedRow {
  id: string;
  key: string | null;
}

export interface Violations {
  /** Orders with more than one succeeded PaymentIntent: charged twice. */
  duplicates: number;
  /** Succeeded PaymentIntents that are not the payment of a paid order: money taken, order not paid. */
  lost: number;
  /** Attempts still `processing` once recovery had its time: an outcome nobody settled. */
  stuck: number;
  /**
   * A paid order whose PaymentIntent is not a succeeded one for that order at the provider, or
   * whose amount/currency differ from it, or a payer told of another PaymentIntent than the one
   * that paid the order.
   */
  mismatches: number;
  /** Orders beyond one per logical create (made without its key, or under a key nobody used). */
  duplicateOrders: number;
  /** A creator told of an order that is not the one made under its key. */
  lostOrders: number;
  /**
   * Orders whose refunds do not add up: the provider refunded more than the amount, or another
   * total than the database's succeeded refunds; `refunded_amount` is not its pending + succeeded
   * refunds (or exceeds the amount); or a logical refund (one caller key) made more than one refund.
   */
  overRefunds: number;
  /** Refunds still `pending` in the database once recovery and webhooks had their time. */
  refundsStuck: number;
  /** Succeeded PaymentIntents of canceled orders: charged although the cancel won. */
  chargedCanceled: number;
  /**
   * Holds (hold-invariants.ts): more taken than authorized (a PaymentIntent's amount_received over
   * its amount, or unlike the order's captured_amount or the capture asked for).
   */
  overCaptures: number;
  /** An authorization captured and voided, or decided more than once. */
  capturedAndVoided: number;
  /** An order charged (a PaymentIntent succeeded with amount_received > 0) that did not end paid, or the reverse. */
  chargeMismatches: number;
  /** An order still being captured or voided (or a capture/void still pending) after the settle. */
  stuckAuthorizations: number;
  /** A challenge still open at the provider after the settle, or an abandoned one not canceled and payable. */
  openChallenges: number;
  /** Answers (answers.ts) with HTTP 500: an unexpected error where a typed answer was due. */
  answers500: number;
  /** Other 5xx answers that are not a retryable typed 503 with its retry hint. */
  untypedErrors: number;
  /** A payer told declined although its card paid the order. */
  falseFailures: number;
  /** Server processes (db-chaos.ts) that exited without the harness killing them. */
  serversExited: number;
  /** A database outage during which no server's /readyz answered 503. */
  readinessMissed: number;
  /** A live server whose /readyz did not answer 200 once the database was back and things settled. */
  notReady: number;
}

export const noViolations = (): Violations => ({
  duplicates: 0,
  lost: 0,
  stuck: 0,
  mismatches: 0,
  duplicateOrders: 0,
  lostOrders: 0,
  overRefunds: 0,
  refundsStuck: 0,
  chargedCanceled: 0,
  overCaptures: 0,
  capturedAndVoided: 0,
  chargeMismatches: 0,
  stuckAuthorizations: 0,
  openChallenges: 0,
  answers500: 0,
  untypedErrors: 0,
  falseFailures: 0,
  serversExited: 0,
  readinessMissed: 0,
  notReady: 0,
});

/** Violations found by one audit, one detail line each, and the orders they name. */
export interface Findings {
  violations: Violations;
  details: string[];
  orderIds: Set<string>;
}

export function findings(): Findings & {
  flag: (kind: keyof Violations, orderId: string, what: string) => void;
} {
  const found: Findings = { violations: noViolations(), details: [], orderIds: new Set() };
  const flag = (kind: keyof Violations, orderId: string, what: string) => {
    found.violations[kind]++;
    found.orderIds.add(orderId);
    found.details.push(`${kind}: order ${orderId}: ${what}`);
  };
  return { ...found, flag };
}

/** Adds one audit's findings to another's. */
export function merge(into: Findings, from: Findings): void {
  for (const kind of Object.keys(into.violations) as (keyof Violations)[])
    into.violations[kind] += from.violations[kind];
  into.details.push(...from.details);
  for (const id of from.orderIds) into.orderIds.add(id);
}

export interface Audit extends Findings {
  paid: number;
  providerSucceeded: number;
}

/**
 * The audit invariant, checked against the database and the provider's ledger: every succeeded
 * PaymentIntent belongs to exactly one paid order (its metadata order's `payment_intent_id`),
 * and every paid order (refunded since or not) has exactly one succeeded PaymentIntent; nothing
 * stays `processing`. A charge of a canceled order is `auditCancels`'s (chargedCanceled).
 */
export function audit(
  orders: OrderRow[],
  stuck: StuckAttempt[],
  ledger: EmulatedPaymentIntent[],
  answers: PayAnswer[],
): Audit {
  const { flag, ...found } = findings();

  const byId = new Map(orders.map((o) => [o.id, o]));
  const succeeded = ledger.filter((pi) => pi.status === 'succeeded');
  const succeededByOrder = new Map<string, EmulatedPaymentIntent[]>();
  for (const pi of succeeded) {
    const orderId = pi.metadata.order_id ?? '(no order_id)';
    succeededByOrder.set(orderId, [...(succeededByOrder.get(orderId) ?? []), pi]);
  }

  for (const [orderId, pis] of succeededByOrder) {
    if (pis.length > 1) {
      flag(
        'duplicates',
        orderId,
        `${pis.length} succeeded PaymentIntents (${pis.map((p) => p.id).join(', ')})`,
      );
    }
    const order = byId.get(orderId);
    if (order?.status === 'canceled') continue;
    for (const pi of pis) {
      if (!isPaidRow(order) || order?.payment_intent_id !== pi.id) {
        // With a duplicate, the extra charge is already counted there; it is lost only if no
        // PaymentIntent of the order is the one recorded.
        if (pis.length > 1 && isPaidRow(order) && pis.some((p) => p.id === order?.payment_intent_id))
          continue;
        flag(
          'lost',
          orderId,
          `succeeded ${pi.id} (key ${pi.idempotency_key}) but order is ${order ? `${order.status} with ${order.payment_intent_id}` : 'unknown'}`,
        );
      }
    }
  }

  const paid = orders.filter(isPaidRow);
  for (const order of paid) {
    const pi = (succeededByOrder.get(order.id) ?? []).find((p) => p.id === order.payment_intent_id);
    if (!pi) {
      flag(
        'mismatches',
        order.id,
        `paid with ${order.payment_intent_id}, not a succeeded PaymentIntent of this order`,
      );
    } else if (pi.amount !== order.amount || pi.currency !== order.currency) {
      flag(
        'mismatches',
        order.id,
        `order ${order.amount} ${order.currency}, provider ${pi.amount} ${pi.currency}`,
      );
    }
  }

  for (const answer of answers) {
    if (answer.outcome !== 'charged' && answer.outcome !== 'already_paid') continue;
    const order = byId.get(answer.orderId);
    if (!isPaidRow(order) || order?.payment_intent_id !== answer.paymentIntentId) {
      flag(
        'mismatches',
        answer.orderId,
        `a payer was told ${answer.outcome} ${answer.paymentIntentId}, order is ${order?.status} ${order?.payment_intent_id}`,
      );
    }
  }
  const chargedAnswers = new Map<string, number>();
  for (const a of answers)
    if (a.outcome === 'charged') chargedAnswers.set(a.orderId, (chargedAnswers.get(a.orderId) ?? 0) + 1);
  for (const [orderId, n] of chargedAnswers) {
    if (n > 1) flag('mismatches', orderId, `${n} payers were told 'charged'`);
  }

  for (const a of stuck)
    flag('stuck', a.order_id, `attempt ${a.id} (${a.idempotency_key}, ${a.claimed_by}) still processing`);

  return { ...found, paid: paid.length, providerSucceeded: succeeded.length };
}

/**
 * One order per logical create: every order of the scenario's user was made under one of the
 * scenario's create keys, at most one per key (the table's unique index says the same), and every
 * creator was told the order made under its key.
 */
export function auditCreates(
  keys: ReadonlySet<string>,
  rows: CreatedRow[],
  answers: CreateAnswer[],
): Pick<Violations, 'duplicateOrders' | 'lostOrders'> & { details: string[] } {
  const details: string[] = [];
  const byKey = new Map<string, string[]>();
  let duplicateOrders = 0;
  for (const row of rows) {
    if (row.key === null || !keys.has(row.key)) {
      duplicateOrders++;
      details.push(
        `duplicateOrders: order ${row.id} made under ${row.key ?? 'no key'}, not one of the creates`,
      );
      continue;
    }
    byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.id]);
  }
  for (const [key, ids] of byKey) {
    if (ids.length > 1) {
      duplicateOrders += ids.length - 1;
      details.push(`duplicateOrders: create ${key} made ${ids.length} orders (${ids.join(', ')})`);
    }
  }
  let lostOrders = 0;
  for (const answer of answers) {
    if (!(byKey.get(answer.key) ?? []).includes(answer.orderId)) {
      lostOrders++;
      details.push(`lostOrders: create ${answer.key} was told ${answer.orderId}, which is not its order`);
    }
  }
  return { duplicateOrders, lostOrders, details };
}
