import { AUTHORIZATION_REOPEN } from '@chargeonce/db';
import type { EmulatedPaymentIntent } from '@chargeonce/stripe-emulator';
import {
  type Findings,
  findings,
  isPaidRow,
  type OrderRow,
  type PayAnswer,
  type Violations,
} from './invariants';

/** A captures row: one capture or void requested of an authorization (its attempt's hold). */
export interface CaptureRow {
  id: string;
  order_id: string;
  attempt_id: string;
  payment_intent_id: string;
  kind: string;
  /** A capture's requested amount; null: all of it (always for a void). */
  amount: number | null;
  status: string;
}

/** What a merchant's capture or void caller was told (an error answer is only tallied). */
export interface HoldAnswer {
  key: string;
  orderId: string;
  kind: 'capture' | 'void';
  outcome: 'captured' | 'already_captured' | 'voided' | 'already_voided' | 'pending';
  /** The captures row the answer names (null: done outside chargeonce). */
  captureId: string | null;
  /** The amount asked for; null: all of it. */
  asked: number | null;
}

/** A challenge the scripted customer met, and what their answer did (`none`: abandoned, or too late). */
export interface ChallengeRecord {
  orderId: string;
  paymentIntentId: string;
  planned: 'complete' | 'fail' | 'abandon';
  result: 'completed' | 'failed' | 'none';
}

export interface HoldAudit extends Findings {
  /** PaymentIntents to capture later that the provider authorized (held), whatever became of them. */
  authorizations: number;
  /** Captures and voids that succeeded (database rows). */
  captures: number;
  voids: number;
  challenges: number;
  challengesCompleted: number;
  challengesFailed: number;
  /** Challenges the customer never answered (in time) that recovery canceled. */
  challengesAbandoned: number;
}

type Flag = (kind: keyof Violations, orderId: string, what: string) => void;
type Ledger = ReadonlyMap<string, EmulatedPaymentIntent>;

const DECIDING: readonly string[] = AUTHORIZATION_REOPEN.from;
const isAbandoned = (pi: EmulatedPaymentIntent | undefined) =>
  pi?.status === 'canceled' && pi.cancellation_reason === 'abandoned';
const show = (pi: EmulatedPaymentIntent | undefined) =>
  pi ? `${pi.id} ${pi.status} received ${pi.amount_received} of ${pi.amount}` : 'no PaymentIntent';

/**
 * The hold and challenge invariants, against the database and the provider's ledger: nothing is
 * captured beyond what was authorized (and what was captured is what the order and the capture
 * say), an authorization is decided at most once (never both captured and voided), an order is
 * charged (a PaymentIntent succeeded taking money) exactly when it ends paid, nothing is left being
 * captured or voided, and no challenge is left open (an abandoned one is canceled and its order
 * payable). Callers told authorized / captured / voided find it so (mismatches).
 */
export function auditHolds(
  orders: OrderRow[],
  rows: CaptureRow[],
  ledger: EmulatedPaymentIntent[],
  told: { pays: PayAnswer[]; holds: HoldAnswer[]; challenges: ChallengeRecord[] },
): HoldAudit {
  const { flag, ...found } = findings();
  const intents: Ledger = new Map(ledger.map((pi) => [pi.id, pi]));
  const byId = new Map(orders.map((o) => [o.id, o]));
  auditCaptures(flag, byId, rows, intents, told.holds);
  auditCharges(flag, orders, ledger);
  auditAnswers(flag, byId, rows, intents, told);
  const abandoned = auditChallenges(flag, byId, ledger, intents, told.challenges);
  const succeeded = (kind: string) => rows.filter((r) => r.kind === kind && r.status === 'succeeded').length;
  const held = ledger.filter(
    (pi) =>
      pi.capture_method === 'manual' &&
      (pi.status === 'requires_capture' ||
        pi.status === 'succeeded' ||
        (pi.status === 'canceled' && !isAbandoned(pi))),
  );
  const results = (r: ChallengeRecord['result']) => told.challenges.filter((c) => c.result === r).length;
  return {
    ...found,
    authorizations: held.length,
    captures: succeeded('capture'),
    voids: succeeded('void'),
    challenges: told.challenges.length,
    challengesCompleted: results('completed'),
    challengesFailed: results('failed'),
    challengesAbandoned: abandoned,
  };
}

/** Over-captures, authorizations decided twice, and captures or voids left undecided. */
function auditCaptures(
  flag: Flag,
  byId: ReadonlyMap<string, OrderRow>,
  rows: CaptureRow[],
  intents: Ledger,
  answers: HoldAnswer[],
): void {
  for (const pi of intents.values()) {
    if (pi.amount_received > pi.amount)
      flag('overCaptures', pi.metadata.order_id ?? '(no order_id)', `provider took more: ${show(pi)}`);
  }
  for (const order of byId.values()) {
    const pi = intents.get(order.payment_intent_id ?? '');
    const captured = order.captured_amount;
    if (captured != null && captured > order.amount)
      flag('overCaptures', order.id, `captured_amount ${captured} of ${order.amount}`);
    else if (isPaidRow(order) && captured != null && pi && pi.amount_received !== captured)
      flag('overCaptures', order.id, `captured_amount ${captured}, provider ${show(pi)}`);
  }
  const perAuthorization = new Map<string, CaptureRow[]>();
  for (const row of rows.filter((r) => r.status !== 'failed'))
    perAuthorization.set(row.attempt_id, [...(perAuthorization.get(row.attempt_id) ?? []), row]);
  for (const [attemptId, decided] of perAuthorization) {
    if (decided.length > 1)
      flag(
        'capturedAndVoided',
        decided[0]!.order_id,
        `authorization ${attemptId} decided ${decided.length} times (${decided.map((r) => `${r.kind} ${r.id} ${r.status}`).join(', ')})`,
      );
  }
  for (const row of rows.filter((r) => r.status === 'succeeded')) {
    const pi = intents.get(row.payment_intent_id);
    if (row.kind === 'void' && (pi?.status === 'succeeded' || (pi?.amount_received ?? 0) > 0))
      flag('capturedAndVoided', row.order_id, `void ${row.id} succeeded, yet ${show(pi)}`);
    if (row.kind === 'capture' && pi?.status !== 'succeeded')
      flag('capturedAndVoided', row.order_id, `capture ${row.id} succeeded, yet ${show(pi)}`);
    if (row.kind === 'capture' && row.amount !== null && pi && pi.amount_received !== row.amount)
      flag('overCaptures', row.order_id, `capture ${row.id} of ${row.amount}, provider ${show(pi)}`);
  }
  const kinds = new Map<string, Set<string>>();
  for (const a of answers.filter((a) => a.outcome !== 'pending'))
    kinds.set(a.orderId, (kinds.get(a.orderId) ?? new Set()).add(a.kind));
  for (const [orderId, k] of kinds) {
    if (k.size > 1) flag('capturedAndVoided', orderId, 'one caller was told captured, another voided');
  }
  const stuck = new Set([
    ...[...byId.values()].filter((o) => DECIDING.includes(o.status)).map((o) => o.id),
    ...rows.filter((r) => r.status === 'pending').map((r) => r.order_id),
  ]);
  for (const orderId of stuck) {
    const pending = rows.filter((r) => r.order_id === orderId && r.status === 'pending').map((r) => r.id);
    flag(
      'stuckAuthorizations',
      orderId,
      `order ${byId.get(orderId)?.status}, pending: ${pending.join(', ') || 'none'}`,
    );
  }
}

/** Charged (a PaymentIntent succeeded taking money) exactly when paid; a canceled order is `auditCancels`'s. */
function auditCharges(flag: Flag, orders: OrderRow[], ledger: EmulatedPaymentIntent[]): void {
  for (const order of orders) {
    if (order.status === 'canceled') continue;
    const charges = ledger.filter(
      (pi) => pi.metadata.order_id === order.id && pi.status === 'succeeded' && pi.amount_received > 0,
    );
    if (!isPaidRow(order) && charges.length > 0)
      flag(
        'chargeMismatches',
        order.id,
        `order ${order.status}, yet charged: ${charges.map(show).join(', ')}`,
      );
    if (isPaidRow(order) && !charges.some((pi) => pi.id === order.payment_intent_id))
      flag(
        'chargeMismatches',
        order.id,
        `order ${order.status} with ${order.payment_intent_id}, which took nothing (${show(ledger.find((pi) => pi.id === order.payment_intent_id))})`,
      );
  }
}

/** Payers told authorized, and merchants told captured / voided / pending, find it so. */
function auditAnswers(
  flag: Flag,
  byId: ReadonlyMap<string, OrderRow>,
  rows: CaptureRow[],
  intents: Ledger,
  told: { pays: PayAnswer[]; holds: HoldAnswer[] },
): void {
  const authorized = new Map<string, number>();
  for (const a of told.pays) {
    if (a.outcome !== 'authorized' && a.outcome !== 'already_authorized') continue;
    const order = byId.get(a.orderId);
    const pi = intents.get(a.paymentIntentId ?? '');
    if (order?.payment_intent_id !== a.paymentIntentId || pi?.capture_method !== 'manual' || isAbandoned(pi))
      flag(
        'mismatches',
        a.orderId,
        `a payer was told ${a.outcome} ${a.paymentIntentId}, order is ${order?.status} ${order?.payment_intent_id}, provider ${show(pi)}`,
      );
    if (a.outcome === 'authorized') {
      const key = `${a.orderId} ${a.paymentIntentId}`;
      authorized.set(key, (authorized.get(key) ?? 0) + 1);
    }
  }
  for (const [key, n] of authorized) {
    if (n > 1) flag('mismatches', key.split(' ')[0]!, `${n} payers were told authorized (${key})`);
  }
  const rowById = new Map(rows.map((r) => [r.id, r]));
  for (const a of told.holds) {
    const order = byId.get(a.orderId);
    const row = a.captureId === null ? undefined : rowById.get(a.captureId);
    const ofIt = row?.order_id === a.orderId && row.kind === a.kind;
    const done = a.kind === 'capture' ? isPaidRow(order) : order?.status === 'canceled';
    const wrong =
      a.outcome === 'pending'
        ? !ofIt
        : !done ||
          (a.captureId !== null && !(ofIt && row?.status === 'succeeded')) ||
          (a.asked !== null && row !== undefined && row.amount !== a.asked);
    if (wrong)
      flag(
        'mismatches',
        a.orderId,
        `${a.kind} ${a.key} (asked ${a.asked ?? 'all'}) was told ${a.outcome} ${a.captureId}, order is ${order?.status}, ` +
          `row ${row ? `${row.kind} of ${row.order_id} ${row.amount ?? 'all'} ${row.status}` : 'none'}`,
      );
  }
}

/**
 * No challenge open at the provider after the settle; one the customer never answered (in time)
 * was canceled (abandoned) and left its order payable. Returns how many were.
 */
function auditChallenges(
  flag: Flag,
  byId: ReadonlyMap<string, OrderRow>,
  ledger: EmulatedPaymentIntent[],
  intents: Ledger,
  records: ChallengeRecord[],
): number {
  for (const pi of ledger.filter((p) => p.status === 'requires_action'))
    flag('openChallenges', pi.metadata.order_id ?? '(no order_id)', `challenge ${pi.id} still open`);
  let abandoned = 0;
  for (const c of records.filter((r) => r.result === 'none')) {
    const pi = intents.get(c.paymentIntentId);
    const order = byId.get(c.orderId);
    if (pi?.status === 'requires_action') continue;
    if (!isAbandoned(pi))
      flag(
        'openChallenges',
        c.orderId,
        `unanswered challenge (${c.planned}) ended ${show(pi)}, not canceled`,
      );
    else if (order?.status !== 'failed')
      flag('openChallenges', c.orderId, `abandoned challenge ${pi?.id} canceled, order ${order?.status}`);
    else abandoned++;
  }
  return abandoned;
}
