import { randomUUID } from 'node:crypto';
import { type CaptureKind, isOrderInFlight, isPaid } from '@chargeonce/db';
import {
  type AuthorizationOutcome,
  type Capture,
  capturesOf,
  findCapture,
  settleAuthorization,
  startCapture,
} from './capture-store';
import { noopLogger, type PaymentsDeps } from './deps';
import { DomainError, isDomainError } from './errors';
import type { ChargeResult } from './gateway';
import { findOrder, type Order } from './orders';
import { canceledCode } from './outcome';
import { PROVIDER_UNAVAILABLE_CODE } from './settle';

export interface CaptureInput {
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  requestedBy: { kind: 'user' | 'service'; id: string };
}

export type CaptureAnswer =
  /** This request captured (`kind: capture`) or voided (`kind: void`) the authorization. */
  | { outcome: 'done'; order: Order; capture: Capture }
  /** It was captured or voided before (by another request, or outside chargeonce: `capture` null). */
  | { outcome: 'already_done'; order: Order; capture: Capture | null }
  /** Sent, outcome not known yet: settled later with the same key. Never capture or void again for it. */
  | { outcome: 'pending'; order: Order; capture: Capture };

/** How many times a request re-reads an order whose version moved between its read and its write. */
export const START_TRIES = 5;

/**
 * Captures an authorized order (all of it, or `amount` of it and the rest released), exactly once.
 * Take (one conditional statement, `startCapture`) -> capture at the provider with the row's key,
 * no transaction open -> settle conditionally. An unknown outcome stays pending; recovery settles
 * it with the same key (a hold is captured at most once at the provider, so repeating is safe).
 */
export function captureOrder(
  deps: PaymentsDeps,
  input: CaptureInput & { amount?: number | undefined },
): Promise<CaptureAnswer> {
  return takeAuthorization(deps, 'capture', input, input.amount ?? null);
}

/** Voids (releases) an authorized order's hold, exactly once; the order ends `canceled`. */
export function voidOrder(deps: PaymentsDeps, input: CaptureInput): Promise<CaptureAnswer> {
  return takeAuthorization(deps, 'void', input, null);
}

async function takeAuthorization(
  deps: PaymentsDeps,
  kind: CaptureKind,
  input: CaptureInput,
  amount: number | null,
): Promise<CaptureAnswer> {
  for (let tries = 1; ; tries++) {
    const { order, capture } = await startCapture(deps.db, {
      captureId: randomUUID(),
      kind,
      orderId: input.orderId,
      userId: input.userId,
      amount,
      requestedBy: input.requestedBy,
    });
    if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: input.orderId });
    if (capture)
      return drive(deps, capture, await callProvider(deps, capture), { keyMayHaveExecuted: false }, order);
    if (order.status === 'authorized') {
      if (amount !== null && amount > order.amount) {
        throw new DomainError({
          code: 'CAPTURE_EXCEEDS_AUTHORIZED',
          orderId: order.id,
          requested: amount,
          authorized: order.amount,
        });
      }
      // The version moved between our read and write (another capture or void was settled back).
      if (tries < START_TRIES) continue;
    }
    return answerExisting(deps, kind, order);
  }
}

/** No row taken: what the order's state says to this request. */
async function answerExisting(deps: PaymentsDeps, kind: CaptureKind, order: Order): Promise<CaptureAnswer> {
  const latest = (await capturesOf(deps.db, order.id)).find((c) => c.kind === kind && c.status !== 'failed');
  if (order.status === (kind === 'capture' ? 'capturing' : 'voiding') && latest?.status === 'pending') {
    return { outcome: 'pending', order, capture: latest };
  }
  // Captured: by a request of ours (its row), or outside chargeonce (none). Voided: only by ours.
  const done =
    kind === 'capture'
      ? isPaid(order.status) && order.captureMethod === 'manual'
      : order.status === 'canceled' && latest?.status === 'succeeded';
  if (done) return { outcome: 'already_done', order, capture: latest ?? null };
  // Its payment is still deciding (a pay in flight, a challenge open): no final answer yet.
  if (isOrderInFlight(order.status))
    throw new DomainError({ code: 'PAYMENT_IN_PROGRESS', orderId: order.id });
  throw new DomainError({
    code: kind === 'capture' ? 'ORDER_NOT_CAPTURABLE' : 'ORDER_NOT_VOIDABLE',
    orderId: order.id,
    status: order.status,
  });
}

/** The provider call of a capture or void, the same however often and by whom it is sent. */
export function callProvider(deps: PaymentsDeps, row: Capture): Promise<ChargeResult> {
  const logger = deps.logger ?? noopLogger;
  logger.info(
    { orderId: row.orderId, captureId: row.id, idempotencyKey: row.idempotencyKey },
    `stripe paymentIntents.${row.kind === 'capture' ? 'capture' : 'cancel'}`,
  );
  const request = { paymentIntentId: row.paymentIntentId, idempotencyKey: row.idempotencyKey };
  return row.kind === 'capture'
    ? deps.gateway.capture({ ...request, amount: row.amount })
    : deps.gateway.cancel({ ...request, reason: 'requested_by_customer' });
}

/**
 * What a provider answer settles for an authorization; `undefined` while not known. A refusal
 * before execution (rejected; unavailable on the requester's own first call) proves only that this
 * request did nothing: the PaymentIntent is read to see where the hold stands.
 */
export function authorizationOutcome(result: ChargeResult): AuthorizationOutcome | undefined {
  switch (result.kind) {
    case 'succeeded':
      return { kind: 'captured', amountReceived: result.amountReceived };
    case 'canceled':
      return { kind: 'released', reason: canceledCode(result.reason) };
    default:
      return undefined;
  }
}

/**
 * Settles a pending capture or void with the provider's answer, and answers its requester (or the
 * recovery worker, `keyMayHaveExecuted`).
 */
export async function drive(
  deps: PaymentsDeps,
  row: Capture,
  result: ChargeResult,
  context: { keyMayHaveExecuted: boolean },
  /** The order as its take left it: the answer when the database cannot be read after the call. */
  taken?: Order,
): Promise<CaptureAnswer> {
  try {
    return await settleAndAnswer(deps, row, result, context);
  } catch (err) {
    // Not recorded (database unreachable?): the row stays pending and recovery settles it with the
    // same key. The requester hears "not known yet", never a false failure or a 500.
    if (!taken || isDomainError(err)) throw err;
    (deps.logger ?? noopLogger).error(
      { err, orderId: row.orderId, captureId: row.id },
      `settling the ${row.kind} failed; left for recovery`,
    );
    return { outcome: 'pending', order: taken, capture: row };
  }
}

async function settleAndAnswer(
  deps: PaymentsDeps,
  row: Capture,
  result: ChargeResult,
  context: { keyMayHaveExecuted: boolean },
): Promise<CaptureAnswer> {
  const refused =
    result.kind === 'rejected' || (result.kind === 'unavailable' && !context.keyMayHaveExecuted);
  let outcome = authorizationOutcome(result);
  if (!outcome && refused) {
    // Nothing executed for this request; where does the hold stand?
    const now = await deps.gateway.retrieve(row.paymentIntentId);
    outcome =
      authorizationOutcome(now) ??
      (now.kind === 'authorized'
        ? {
            kind: 'reopened',
            captureId: row.id,
            errorCode: result.kind === 'rejected' ? result.code : PROVIDER_UNAVAILABLE_CODE,
          }
        : undefined);
  }
  if (outcome) {
    await settleAuthorization(deps.db, {
      orderId: row.orderId,
      paymentIntentId: row.paymentIntentId,
      outcome,
    });
  } else {
    (deps.logger ?? noopLogger).warn(
      {
        orderId: row.orderId,
        captureId: row.id,
        reason: result.kind === 'unknown' ? result.reason : result.kind,
      },
      `${row.kind} outcome unknown; left pending for recovery`,
    );
  }
  const [order, settled] = await Promise.all([findOrder(deps.db, row.orderId), findCapture(deps.db, row.id)]);
  if (!order || !settled) throw new Error(`capture ${row.id} vanished`);
  return answerFor(order, settled);
}

/** The requester's answer from its row as it stands. */
function answerFor(order: Order, row: Capture): CaptureAnswer {
  if (row.status === 'succeeded') return { outcome: 'done', order, capture: row };
  if (row.status === 'pending') return { outcome: 'pending', order, capture: row };
  const reason = row.errorCode ?? 'failed';
  if (reason === PROVIDER_UNAVAILABLE_CODE)
    throw new DomainError({ code: 'PROVIDER_UNAVAILABLE', orderId: order.id });
  if (order.status === 'failed') throw new DomainError({ code: 'AUTHORIZATION_EXPIRED', orderId: order.id });
  throw new DomainError({
    code: row.kind === 'capture' ? 'CAPTURE_FAILED' : 'VOID_FAILED',
    orderId: order.id,
    reason,
    status: order.status,
  });
}
