import { randomUUID } from 'node:crypto';
import { REFUNDABLE_STATUSES } from '@chargeonce/db';
import { noopLogger, type PaymentsDeps } from './deps';
import { DomainError, type DomainErrorCode, isDomainError } from './errors';
import type { RefundRequest, RefundResult } from './gateway';
import { findOrder, type Order } from './orders';
import {
  detachRefundKey,
  findRefund,
  type Refund,
  type RefundOutcome,
  reserveRefund,
  settleRefund,
} from './refund-store';
import { ABANDONED_CODE, PROVIDER_UNAVAILABLE_CODE } from './settle';

export interface RefundInput {
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  /** Minor units; the whole unrefunded amount when absent. */
  amount?: number | undefined;
  reason?: string | undefined;
  requestedBy: { kind: 'user' | 'service'; id: string };
  /** The caller idempotency key's row: a re-run under it finds the refund its first request made. */
  idempotencyKeyId?: string | undefined;
}

export type RefundAnswer =
  /** The money went back (now, or before this call for a refund found under its key). */
  | { outcome: 'refunded'; order: Order; refund: Refund }
  /** Reserved and sent, not final yet (provider pending or unknown): never refund again for it. */
  | { outcome: 'pending'; order: Order; refund: Refund };

/**
 * The provider request of a refund, the same however often and by whom it is sent: its amount, its
 * PaymentIntent, its key, and metadata that finds it by refund when the key is gone.
 */
export function refundRequestFor(refund: Refund): RefundRequest {
  return {
    paymentIntentId: refund.paymentIntentId,
    amount: refund.amount,
    reason: refund.reason,
    idempotencyKey: refund.idempotencyKey,
    metadata: { order_id: refund.orderId, refund_id: refund.id },
  };
}

/**
 * What a provider answer settles for the refund that asked; `undefined` while not known. As for
 * payments (`attemptOutcome`), `unavailable` proves nothing was refunded only on the requester's own
 * first call; after an earlier request with the key it says nothing.
 */
export function refundOutcome(
  result: RefundResult,
  context: { keyMayHaveExecuted: boolean },
): RefundOutcome | undefined {
  switch (result.kind) {
    case 'succeeded':
      return { status: 'succeeded', stripeRefundId: result.refundId };
    case 'pending':
      return { status: 'pending', stripeRefundId: result.refundId };
    case 'failed':
      return { status: 'failed', stripeRefundId: result.refundId, errorCode: result.reason };
    case 'rejected':
      return { status: 'failed', stripeRefundId: null, errorCode: result.code };
    case 'unavailable':
      return context.keyMayHaveExecuted
        ? undefined
        : { status: 'failed', stripeRefundId: null, errorCode: PROVIDER_UNAVAILABLE_CODE };
    case 'unknown':
      return undefined;
  }
}

/**
 * How many times a full refund re-reads the order when concurrent refunds changed what is left
 * between its read and its reservation. Each miss means another refund reserved (progress), so this
 * bounds only how long one full refund chases a storm of partial ones.
 */
export const FULL_REFUND_TRIES = 50;

/**
 * Refunds an order once per request, however the request is repeated. Reserve (one conditional
 * statement, see `reserveRefund`) -> refund at the provider with the refund row's key and no
 * transaction open -> settle conditionally. A failure gives the reservation back; an unknown
 * outcome stays `pending` and the recovery worker settles it with the same key.
 */
export async function refundOrder(deps: PaymentsDeps, input: RefundInput): Promise<RefundAnswer> {
  try {
    const answer = await requestRefund(deps, input);
    deps.hooks?.refundOutcome?.(answer.outcome);
    return answer;
  } catch (err) {
    if (isDomainError(err)) deps.hooks?.refundOutcome?.(REFUND_FAILURE_OUTCOME[err.code] ?? 'refused');
    throw err;
  }
}

const REFUND_FAILURE_OUTCOME: Partial<Record<DomainErrorCode, string>> = {
  REFUND_FAILED: 'failed',
  PROVIDER_UNAVAILABLE: 'unavailable',
  ORDER_NOT_FOUND: 'not_found',
};

async function requestRefund(deps: PaymentsDeps, input: RefundInput): Promise<RefundAnswer> {
  const keyId = input.idempotencyKeyId;
  const earlier = keyId ? await findRefund(deps.db, { idempotencyKeyId: keyId }) : undefined;
  if (earlier && !(earlier.status === 'failed' && NEVER_EXECUTED.has(earlier.errorCode ?? ''))) {
    return answerExisting(deps, earlier);
  }
  // Refused before it executed (our credentials, or abandoned unsent): the retry the caller was
  // told to make is a new refund under the same key.
  if (earlier) await detachRefundKey(deps.db, earlier.id);
  for (let tries = 1; ; tries++) {
    const { order, refund } = await reserveRefund(deps.db, {
      refundId: randomUUID(),
      orderId: input.orderId,
      userId: input.userId,
      amount: input.amount,
      reason: input.reason ?? null,
      requestedBy: input.requestedBy,
      idempotencyKeyId: input.idempotencyKeyId ?? null,
    }).catch(async (err: unknown) => {
      // The key's first request (presumed dead, still alive) reserved first: that refund answers.
      if (!input.idempotencyKeyId || !isUniqueViolation(err)) throw err;
      const made = await findRefund(deps.db, { idempotencyKeyId: input.idempotencyKeyId });
      if (!made) throw err;
      return { order: undefined, refund: made, existing: true as const };
    });
    if (refund && order) return drive(deps, refund, order, { keyMayHaveExecuted: false });
    if (refund) return answerExisting(deps, refund);
    if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: input.orderId });
    // The key's first request (taken over, still alive) may have reserved meanwhile: its refund,
    // not a refusal, is this key's answer.
    const made = keyId ? await findRefund(deps.db, { idempotencyKeyId: keyId }) : undefined;
    if (made) return answerExisting(deps, made);
    // Nothing reserved: decide why on the order as it is now (the statement's read may be older).
    const now = (await findOrder(deps.db, order.id)) ?? order;
    if (!(REFUNDABLE_STATUSES as readonly string[]).includes(now.status)) {
      throw new DomainError({ code: 'ORDER_NOT_REFUNDABLE', orderId: now.id, status: now.status });
    }
    const refundable = (now.capturedAmount ?? now.amount) - now.refundedAmount;
    if (input.amount === undefined && refundable > 0 && tries < FULL_REFUND_TRIES) continue;
    throw new DomainError({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      orderId: now.id,
      requested: input.amount ?? refundable,
      refundable,
    });
  }
}

/**
 * A refund this request made before (found under its key): its state now. A pending one is never
 * sent again from here, however old: only recovery repeats a create, under its lease and within the
 * provider's key window (past it, a repeat could refund twice and a lookup could miss a create in
 * flight).
 */
async function answerExisting(deps: PaymentsDeps, refund: Refund): Promise<RefundAnswer> {
  const order = await findOrder(deps.db, refund.orderId);
  if (!order) throw new Error(`refund ${refund.id} has no order`);
  return answer(refund, order);
}

/** Failures that prove the provider never executed the refund (the caller may retry with the key). */
const NEVER_EXECUTED: ReadonlySet<string> = new Set([PROVIDER_UNAVAILABLE_CODE, ABANDONED_CODE]);

/** Sends a reserved refund to the provider and settles what it says. */
async function drive(
  deps: PaymentsDeps,
  refund: Refund,
  order: Order,
  context: { keyMayHaveExecuted: boolean },
): Promise<RefundAnswer> {
  const logger = deps.logger ?? noopLogger;
  const log = { orderId: order.id, refundId: refund.id, idempotencyKey: refund.idempotencyKey };
  logger.info(log, 'stripe refunds.create');
  const result = await deps.gateway.refund(refundRequestFor(refund));
  const outcome = refundOutcome(result, context);
  if (!outcome) {
    logger.warn(
      { ...log, reason: result.kind === 'unknown' ? result.reason : result.kind },
      'refund outcome unknown; left pending',
    );
    return answer(refund, order);
  }
  const settled = await settleRefund(deps.db, refund.id, outcome).catch((err: unknown) => {
    // Not recorded: the refund stays pending and recovery settles it with the same key.
    logger.error({ ...log, err, status: outcome.status }, 'settling the refund failed; left for recovery');
    return null;
  });
  // So the caller hears "pending" (as recorded: not final here yet), never an error that hides
  // whether money moved; the database is likely unreadable too, so the rows in hand answer.
  if (settled === null) return answer(refund, order);
  // Settled otherwise meanwhile (a webhook first): report what is recorded.
  const current = settled?.refund ?? (await findRefund(deps.db, { id: refund.id })) ?? refund;
  // Settled here: only a failure changes the order (its release returns it); otherwise re-read.
  const currentOrder = settled ? (settled.order ?? order) : ((await findOrder(deps.db, order.id)) ?? order);
  return answer(current, currentOrder, result.kind === 'rejected' ? result.message : '');
}

/** The caller's answer for a refund as recorded: a failed one is an error (nothing was refunded). */
function answer(refund: Refund, order: Order, providerMessage = ''): RefundAnswer {
  if (refund.status === 'failed') {
    throw refund.errorCode === PROVIDER_UNAVAILABLE_CODE
      ? new DomainError({ code: 'PROVIDER_UNAVAILABLE', orderId: order.id })
      : new DomainError({
          code: 'REFUND_FAILED',
          orderId: order.id,
          refundId: refund.id,
          reason: refund.errorCode ?? 'failed',
          providerMessage,
        });
  }
  return { outcome: refund.status === 'succeeded' ? 'refunded' : 'pending', order, refund };
}

function isUniqueViolation(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } })?.cause ?? err;
  return (cause as { code?: string })?.code === '23505';
}
