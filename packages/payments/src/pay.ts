import { isAuthorized, isOrderInFlight, isPaid, isPayable } from '@chargeonce/db';
import { chargeRequestFor } from './attempts';
import { fullJitterDelay } from './backoff';
import { currentChallenge } from './challenge';
import { claimOrder } from './claim';
import { DEFAULT_PAY_POLICY, noopLogger, type PaymentsDeps } from './deps';
import { DomainError, type DomainErrorCode } from './errors';
import type { ChargeResult } from './gateway';
import { findOrder, type Order, type PaymentAttempt } from './orders';
import { attemptOutcome, failureError } from './outcome';
import { finalizeAttempt } from './settle';

export interface PayInput {
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  /** Pay with this payment method instead of the order's (e.g. another card after a decline). */
  paymentMethodId?: string | undefined;
}

export type PayOutcome =
  /** This call charged the order. */
  | { outcome: 'charged'; order: Order; paymentIntentId: string }
  /** The order was already paid (by another request); the payment is the existing one. */
  | { outcome: 'already_paid'; order: Order; paymentIntentId: string }
  /** Manual capture: this call authorized the order (the funds are held until captured or voided). */
  | { outcome: 'authorized'; order: Order; paymentIntentId: string }
  /** The order was already authorized (by another request); nothing new is held. */
  | { outcome: 'already_authorized'; order: Order; paymentIntentId: string }
  /**
   * The customer must complete a 3-D Secure challenge at `redirectUrl` (null: the provider gave no
   * page to send them to). The order settles from the webhook, the return, or recovery.
   */
  | { outcome: 'requires_action'; order: Order; redirectUrl: string | null }
  /** The outcome is not known yet (provider timeout, or another payer still in flight). Never pay again. */
  | { outcome: 'processing'; order: Order };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Pays an order exactly once, however many times and from wherever it is called.
 *
 * Claim (one conditional UPDATE + attempt insert) -> charge with the claim's idempotency key and no
 * transaction open -> settle conditionally on the claimed version. A caller that loses the claim
 * re-reads and decides: paid -> `already_paid`; in flight -> back off (full jitter) and look again,
 * up to the deadline, then `processing`; the attempt it waited on failed -> that attempt's error.
 * A decline of the same payment method within the cool-down answers with that decline instead of
 * charging the card again, so a burst of clicks on a declining card is one PaymentIntent.
 */
export async function payOrder(deps: PaymentsDeps, input: PayInput): Promise<PayOutcome> {
  const policy = deps.policy ?? DEFAULT_PAY_POLICY;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const startedAt = now();
  // The claim version of the first attempt this call saw in flight: its outcome is our answer.
  let waitedOn: number | undefined;

  for (let retry = 0; ; retry++) {
    const { order, attempt, answer, statusAgeMs } = await claimOrder(deps.db, {
      orderId: input.orderId,
      userId: input.userId,
      claimedBy: deps.instanceId,
      paymentMethodId: input.paymentMethodId,
      waitedOn,
      declineCooldownMs: policy.declineCooldownMs,
      returnUrl: deps.returnUrl,
    });
    if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: input.orderId });
    if (attempt) return chargeClaimed(deps, order, attempt);
    if (isPaid(order.status) && order.paymentIntentId) {
      return finish(deps, { outcome: 'already_paid', order, paymentIntentId: order.paymentIntentId });
    }
    if ((order.status === 'authorized' || order.status === 'capturing') && order.paymentIntentId) {
      return finish(deps, { outcome: 'already_authorized', order, paymentIntentId: order.paymentIntentId });
    }
    if (order.status === 'requires_action') {
      // Another call started a challenge: the customer completes that one (same page, no new attempt).
      const redirectUrl = await currentChallenge(deps.db, order.id);
      return finish(deps, { outcome: 'requires_action', order, redirectUrl });
    }
    const inFlight = isOrderInFlight(order.status);
    // Canceled (or refunded): no decline replayed, no waiting; it cannot be paid.
    if (!inFlight && !isPayable(order.status)) {
      throw new DomainError({ code: 'ORDER_NOT_PAYABLE', orderId: order.id, status: order.status });
    }
    if (answer?.status === 'failed') throw failed(deps, failureError(order.id, answer));
    // The attempt we waited on held funds that were released since (the hold lapsed): the order is
    // payable again, and this call pays it anew rather than wait on an attempt that is over.
    if (answer?.status === 'canceled') waitedOn = undefined;
    deps.hooks?.claimConflict?.();
    // In flight, the order's version is the claim version of its attempt.
    if (inFlight) waitedOn ??= order.version;
    const elapsed = now() - startedAt;
    if ((inFlight && statusAgeMs >= policy.inflightStaleMs) || elapsed >= policy.deadlineMs) {
      return finish(deps, { outcome: 'processing', order });
    }
    // Payable but the claim missed: another claim moved the version between our read and write.
    // Look again at once (it is now in flight). In flight: wait with jitter, bounded by the deadline.
    const delay = inFlight ? fullJitterDelay(policy.backoff, retry, deps.random) : 0;
    deps.hooks?.retry?.(delay);
    if (delay > 0) await sleep(Math.min(delay, policy.deadlineMs - elapsed));
  }
}

async function chargeClaimed(
  deps: PaymentsDeps,
  claimed: Order,
  attempt: PaymentAttempt,
): Promise<PayOutcome> {
  const logger = deps.logger ?? noopLogger;
  const log = { orderId: claimed.id, attemptId: attempt.id, idempotencyKey: attempt.idempotencyKey };
  // Phase 2: no transaction or lock is held here; the claim row is the only "lock".
  logger.info(log, 'stripe paymentIntents.create');
  const result = await deps.gateway.charge(chargeRequestFor(attempt));
  const outcome = attemptOutcome(result, { keyMayHaveExecuted: false });
  if (!outcome) {
    logger.warn(
      { ...log, reason: result.kind === 'unknown' ? result.reason : result.kind },
      'provider outcome unknown; attempt left processing',
    );
    return finish(deps, { outcome: 'processing', order: claimed });
  }
  if (result.kind === 'unavailable') {
    logger.error({ ...log, reason: result.reason }, 'payment provider refused our credentials');
  }
  let settled: Order | undefined;
  try {
    settled = await finalizeAttempt(deps.db, {
      orderId: claimed.id,
      attemptId: attempt.id,
      claimVersion: attempt.claimVersion,
      outcome,
    });
  } catch (err) {
    // Not recorded (database unreachable?): the attempt stays in flight and recovery settles it
    // with the same key. The caller still hears what the provider said, never a false failure.
    logger.error({ ...log, err, status: outcome.status }, 'settling the attempt failed; left for recovery');
    // Only a decline is an answer recovery will hear again (Stripe replays an executed request for
    // its key). A charge is kept; a refusal before execution (rejected, unavailable) is not stored,
    // so recovery's repeat may yet charge: either way the honest answer is "not known yet".
    if (result.kind !== 'declined') return finish(deps, { outcome: 'processing', order: claimed });
  }
  switch (outcome.status) {
    case 'succeeded':
    case 'authorized':
      return answerTaken(deps, claimed, settled, outcome, log);
    case 'requires_action':
      return finish(deps, {
        outcome: 'requires_action',
        order: settled ?? claimed,
        redirectUrl: outcome.actionUrl,
      });
    case 'failed':
      throw failed(deps, failureError(claimed.id, outcome, providerMessage(result)));
  }
}

/**
 * The charge succeeded or the funds are held: report it, re-reading first when someone else settled
 * the claim.
 */
async function answerTaken(
  deps: PaymentsDeps,
  claimed: Order,
  settled: Order | undefined,
  taken: { status: 'succeeded' | 'authorized'; paymentIntentId: string },
  log: Record<string, string>,
): Promise<PayOutcome> {
  const { paymentIntentId } = taken;
  const outcome = taken.status === 'succeeded' ? 'charged' : 'authorized';
  if (settled) return finish(deps, { outcome, order: settled, paymentIntentId });
  // The conditional update missed: a webhook or recovery settled this claim first. Report what is
  // true rather than assume (a hold may have been captured since: still this call's authorization).
  const current = await findOrder(deps.db, claimed.id).catch(() => undefined);
  const holds = (s: Order['status']) => isPaid(s) || (outcome === 'authorized' && isAuthorized(s));
  if (current && holds(current.status) && current.paymentIntentId === paymentIntentId) {
    return finish(deps, { outcome, order: current, paymentIntentId });
  }
  (deps.logger ?? noopLogger).error(
    { ...log, paymentIntentId, status: current?.status },
    'charged, but the claim was settled otherwise; left for reconciliation',
  );
  return finish(deps, { outcome: 'processing', order: current ?? claimed });
}

function providerMessage(result: ChargeResult): string {
  return result.kind === 'declined' || result.kind === 'rejected' ? result.message : '';
}

const FAILURE_OUTCOME: Partial<Record<DomainErrorCode, string>> = {
  PAYMENT_DECLINED: 'declined',
  PAYMENT_REJECTED: 'rejected',
  PROVIDER_UNAVAILABLE: 'unavailable',
};

function failed(deps: PaymentsDeps, error: DomainError): DomainError {
  deps.hooks?.outcome?.(FAILURE_OUTCOME[error.code] ?? error.code);
  return error;
}

function finish(deps: PaymentsDeps, outcome: PayOutcome): PayOutcome {
  deps.hooks?.outcome?.(outcome.outcome);
  return outcome;
}
