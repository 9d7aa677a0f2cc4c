import type { EmulatedPaymentIntent, EmulatedRefund } from '@chargeonce/stripe-emulator';
import { type Findings, findings, type OrderRow } from './invariants';

/**
 * A refunds row, with the caller key it was requested under (null: none, or let go of: a refund
 * that failed before the provider executed it leaves its key to the caller's retry).
 */
export interface RefundRow {
  id: string;
  order_id: string;
  amount: number;
  status: string;
  stripe_refund_id: string | null;
  key: string | null;
}

/** What a refunder was told: the refund made under its key (an error answer is only tallied). */
export interface RefundAnswer {
  key: string;
  orderId: string;
  outcome: 'refunded' | 'pending';
  refundId: string;
  amount: number;
  /** The amount asked for; null: a full refund. */
  asked: number | null;
}

/** What a canceler was told. */
export interface CancelAnswer {
  key: string;
  orderId: string;
  outcome: 'canceled' | 'already_canceled';
}

export interface RefundAudit extends Findings {
  refundsSucceeded: number;
  /** Sum of the provider's succeeded refunds (minor units, all currencies). */
  providerRefunded: number;
}

const sum = (amounts: { amount: number }[]) => amounts.reduce((n, r) => n + r.amount, 0);

/**
 * The refund invariants, against the database and the provider's ledger: for every order, what the
 * provider refunded on its PaymentIntents (succeeded refunds) is what the database's succeeded
 * refunds say, at most the amount; `refunded_amount` is the order's pending + succeeded refunds
 * (at most the amount, and only on a paid order); each logical refund (caller key) made at most one
 * refund that did not fail, and none was made without a key; nothing stays pending. A refunder was
 * told of a refund made under its key (or one that failed and let the key go), for its order and
 * its amount (mismatches).
 */
export function auditRefunds(
  orders: OrderRow[],
  rows: RefundRow[],
  ledger: EmulatedPaymentIntent[],
  provider: EmulatedRefund[],
  keys: ReadonlySet<string>,
  answers: RefundAnswer[],
): RefundAudit {
  const { flag, ...found } = findings();
  const orderOfIntent = new Map(ledger.map((pi) => [pi.id, pi.metadata.order_id ?? '(no order_id)']));
  const atProvider = new Map<string, EmulatedRefund[]>();
  for (const r of provider) {
    const orderId = orderOfIntent.get(r.payment_intent) ?? r.metadata.order_id ?? '(unknown)';
    atProvider.set(orderId, [...(atProvider.get(orderId) ?? []), r]);
  }
  const inDatabase = new Map<string, RefundRow[]>();
  for (const row of rows) inDatabase.set(row.order_id, [...(inDatabase.get(row.order_id) ?? []), row]);
  const byId = new Map(orders.map((o) => [o.id, o]));

  for (const orderId of new Set([...atProvider.keys(), ...inDatabase.keys()])) {
    const order = byId.get(orderId);
    const ours = inDatabase.get(orderId) ?? [];
    const theirs = (atProvider.get(orderId) ?? []).filter((r) => r.status === 'succeeded');
    const providerTotal = sum(theirs);
    const succeeded = sum(ours.filter((r) => r.status === 'succeeded'));
    const reserved = sum(ours.filter((r) => r.status !== 'failed'));
    // Refunds are bounded by what was taken (less than the amount after a partial capture).
    const amount = order?.captured_amount ?? order?.amount ?? 0;
    const wrong: string[] = [];
    if (providerTotal > amount) wrong.push(`provider refunded ${providerTotal} of ${amount}`);
    if (providerTotal !== succeeded)
      wrong.push(`provider refunded ${providerTotal}, database's succeeded refunds ${succeeded}`);
    if (order && order.refunded_amount !== reserved)
      wrong.push(`refunded_amount ${order.refunded_amount}, pending + succeeded refunds ${reserved}`);
    if (order && order.refunded_amount > amount)
      wrong.push(`refunded_amount ${order.refunded_amount} of ${amount}`);
    if (reserved > 0 && order?.status === 'canceled') wrong.push(`${reserved} refunded on a canceled order`);
    const perKey = new Map<string | null, number>();
    for (const row of ours.filter((r) => r.status !== 'failed'))
      perKey.set(row.key, (perKey.get(row.key) ?? 0) + 1);
    for (const [key, n] of perKey) {
      if (key === null || !keys.has(key)) wrong.push(`a refund made under ${key ?? 'no key'}`);
      else if (n > 1) wrong.push(`refund ${key} made ${n} refunds`);
    }
    if (wrong.length > 0) {
      const db = ours.map((r) => `${r.id} ${r.amount} ${r.status} ${r.stripe_refund_id ?? '-'} (${r.key})`);
      const at = (atProvider.get(orderId) ?? []).map(
        (r) => `${r.id} ${r.amount} ${r.status} (refund ${r.metadata.refund_id}, key ${r.idempotency_key})`,
      );
      flag(
        'overRefunds',
        orderId,
        `${wrong.join('; ')} [order ${order?.status} ${amount}; database: ${db.join(', ') || 'none'}; provider: ${at.join(', ') || 'none'}]`,
      );
    }
  }

  for (const row of rows) {
    if (row.status === 'pending')
      flag(
        'refundsStuck',
        row.order_id,
        `refund ${row.id} (${row.key}) still pending, ${row.stripe_refund_id}`,
      );
  }

  const rowById = new Map(rows.map((r) => [r.id, r]));
  for (const a of answers) {
    const row = rowById.get(a.refundId);
    if (
      !row ||
      row.order_id !== a.orderId ||
      !(row.key === a.key || (row.key === null && row.status === 'failed')) ||
      (a.asked !== null && row.amount !== a.asked)
    ) {
      flag(
        'mismatches',
        a.orderId,
        `refund ${a.key} (asked ${a.asked ?? 'all'}) was told ${a.outcome} ${a.refundId} ${a.amount}, ` +
          `which is ${row ? `the refund of ${row.order_id} under ${row.key}, ${row.amount}` : 'no refund'}`,
      );
    }
  }
  return {
    ...found,
    refundsSucceeded: rows.filter((r) => r.status === 'succeeded').length,
    providerRefunded: sum(provider.filter((r) => r.status === 'succeeded')),
  };
}

/**
 * A canceled order is never charged (no succeeded PaymentIntent names it), and a canceler told
 * `canceled` / `already_canceled` finds its order canceled (mismatches).
 */
export function auditCancels(
  orders: OrderRow[],
  ledger: EmulatedPaymentIntent[],
  answers: CancelAnswer[],
): Findings & { canceled: number } {
  const { flag, ...found } = findings();
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const pi of ledger) {
    const order = byId.get(pi.metadata.order_id ?? '');
    if (pi.status === 'succeeded' && order?.status === 'canceled')
      flag('chargedCanceled', order.id, `canceled, yet ${pi.id} (key ${pi.idempotency_key}) succeeded`);
  }
  for (const a of answers) {
    const order = byId.get(a.orderId);
    if (order?.status !== 'canceled')
      flag('mismatches', a.orderId, `cancel ${a.key} was told ${a.outcome}, order is ${order?.status}`);
  }
  return { ...found, canceled: orders.filter((o) => o.status === 'canceled').length };
}
