import {
  type AttemptOutcome,
  type ClaimedAttempt,
  claimOrder,
  finalizeAttempt,
  latestAttempt,
} from './attempts';
import { fullJitterDelay } from './backoff';
import { DEFAULT_PAY_POLICY, noopLogger, type PaymentsDeps } from './deps';
import { DomainError } from './errors';
import type { Order } from './order-row';
import { IN_FLIGHT_STATUSES, isPaid, isPayable, PAYABLE_STATUSES } from './order-state';
import { findOrder } from './orders';

export interface PayInput {
  orderId: string;
  userId: string;
  /** Pay with this payment method instead of the order's (e.g. another card after a decline). */
  paymentMethodId?: string | undefined;
}

export type PayOutcome =
  /** This call charged the order. */
  | { outcome: 'charged'; order: Order; paymentIntentId: string }
  /** The order was already paid (by another request); the payment is the existing one. */
  | { outcome: 'already_paid'; order: Order; paymentIntentId: string }
  /** The outcome is not known yet (provider timeout, or another payer still in flight). Never pay again. */
  | { outcome: 'processing'; order: Order };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Pays an order exactly once, however many times and from wherever it is called.
 *
 * Claim (one conditional UPDATE + attempt insert) -> charge with the claim's idempotency key and no
 * transaction open -> finalize conditionally on the claimed version. A caller that loses the claim
 * re-reads and decides: paid -> `already_paid`; in flight -> back off (full jitter) and look again,
 * up to the deadline, then `processing`.
 */
export async function payOrder(deps: PaymentsDeps, input: PayInput): Promise<PayOutcome> {
  const policy = deps.policy ?? DEFAULT_PAY_POLICY;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const startedAt = now();
  // Set once this call has waited on another payer's claim: that claim's answer is ours too.
  let waitedOn = false;

  for (let retry = 0; ; retry++) {
    const claim = await claimOrder(deps.db, {
      orderId: input.orderId,
      userId: input.userId,
      claimedBy: deps.instanceId,
      paymentMethodId: input.paymentMethodId,
      // After waiting, a `failed` order means the claim we waited on was declined: report that
      // decline rather than charge the same card again (a double-click must not become two declines).
      from: waitedOn ? ['pending'] : PAYABLE_STATUSES,
    });
    const { order, attempt } = claim;
    if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: input.orderId });
    if (attempt) return chargeClaimed(deps, order, attempt);
    if (waitedOn && order.status === 'failed') throw await declineOfLatestAttempt(deps, order);

    if (isPaid(order.status) && order.paymentIntentId) {
      return finish(deps, { outcome: 'already_paid', order, paymentIntentId: order.paymentIntentId });
    }
    if (order.status === 'canceled') {
      throw new DomainError({ code: 'ORDER_NOT_PAYABLE', orderId: order.id, status: order.status });
    }
    deps.hooks?.claimConflict?.();
    const inFlight = (IN_FLIGHT_STATUSES as readonly string[]).includes(order.status);
    waitedOn ||= inFlight;
    const elapsed = now() - startedAt;
    if (
      order.status === 'requires_action' ||
      (inFlight && claim.statusAgeMs >= policy.inflightStaleMs) ||
      elapsed >= policy.deadlineMs
    ) {
      return finish(deps, { outcome: 'processing', order });
    }
    // Payable but the claim missed: another claim moved the version between our read and write.
    // Look again at once (it is now in flight). In flight: wait with jitter, bounded by the deadline.
    const delay = isPayable(order.status) ? 0 : fullJitterDelay(policy.backoff, retry, deps.random);
    deps.hooks?.retry?.(delay);
    if (delay > 0) await sleep(Math.min(delay, policy.deadlineMs - elapsed));
  }
}

async function chargeClaimed(deps: PaymentsDeps, order: Order, attempt: ClaimedAttempt): Promise<PayOutcome> {
  const logger = deps.logger ?? noopLogger;
  const claimed: Order = {
    ...order,
    status: 'processing',
    version: attempt.claimVersion,
    paymentMethodId: attempt.paymentMethodId,
  };
  const log = { orderId: order.id, attemptId: attempt.id, idempotencyKey: attempt.idempotencyKey };
  // Phase 2: no transaction or lock is held here; the claim row is the only "lock".
  logger.info(log, 'stripe paymentIntents.create');
  const result = await deps.gateway.charge({
    amount: attempt.amount,
    currency: attempt.currency,
    paymentMethodId: attempt.paymentMethodId,
    idempotencyKey: attempt.idempotencyKey,
    metadata: {
      order_id: order.id,
      attempt_id: attempt.id,
      claim_version: String(attempt.claimVersion),
    },
  });
  const finalize = (outcome: AttemptOutcome) =>
    finalizeAttempt(deps.db, {
      orderId: order.id,
      attemptId: attempt.id,
      claimVersion: attempt.claimVersion,
      outcome,
    });
  /** The caller hears the provider's answer even if recording it fails (recovery settles it then). */
  const recordOutcome = async (outcome: AttemptOutcome) => {
    try {
      await finalize(outcome);
    } catch (err) {
      logger.error({ ...log, err }, 'recording a failed attempt failed; left processing for recovery');
    }
  };

  switch (result.kind) {
    case 'succeeded': {
      let paid: Order | undefined;
      try {
        paid = await finalize({ status: 'succeeded', paymentIntentId: result.paymentIntentId });
      } catch (err) {
        // Charged, but not recorded (database unreachable?). The attempt stays `processing` and is
        // settled later with the same key; the caller must not be told it failed.
        logger.error(
          { ...log, err, paymentIntentId: result.paymentIntentId },
          'finalize after charge failed',
        );
        return finish(deps, { outcome: 'processing', order: claimed });
      }
      if (paid) {
        return finish(deps, { outcome: 'charged', order: paid, paymentIntentId: result.paymentIntentId });
      }
      // The conditional update missed: someone else (webhook, recovery) finalized this claim first.
      // Re-read and report what is true rather than assume.
      const current = await findOrder(deps.db, order.id).catch(() => undefined);
      if (current?.status === 'paid' && current.paymentIntentId === result.paymentIntentId) {
        return finish(deps, { outcome: 'charged', order: current, paymentIntentId: result.paymentIntentId });
      }
      logger.error(
        { ...log, paymentIntentId: result.paymentIntentId, status: current?.status },
        'charged, but the claim was finalized otherwise; left for reconciliation',
      );
      return finish(deps, { outcome: 'processing', order: current ?? claimed });
    }
    case 'declined':
      await recordOutcome({
        status: 'failed',
        paymentIntentId: result.paymentIntentId,
        errorCode: result.code,
        declineCode: result.declineCode,
      });
      deps.hooks?.outcome?.('declined');
      throw new DomainError({
        code: 'PAYMENT_DECLINED',
        orderId: order.id,
        declineCode: result.declineCode,
        providerMessage: result.message,
      });
    case 'rejected':
      await recordOutcome({
        status: 'failed',
        paymentIntentId: null,
        errorCode: result.code,
        declineCode: null,
      });
      deps.hooks?.outcome?.('rejected');
      throw new DomainError({
        code: 'PAYMENT_REJECTED',
        orderId: order.id,
        providerCode: result.code,
        providerMessage: result.message,
      });
    case 'unavailable':
      // Refused before execution (our key or permissions): nothing charged, order payable again.
      logger.error({ ...log, reason: result.reason }, 'payment provider refused our credentials');
      await recordOutcome({
        status: 'failed',
        paymentIntentId: null,
        errorCode: 'provider_unavailable',
        declineCode: null,
      });
      deps.hooks?.outcome?.('unavailable');
      throw new DomainError({ code: 'PROVIDER_UNAVAILABLE', orderId: order.id });
    case 'requires_action':
      // Defensive: charges are sent with error_on_requires_action, so Stripe answers a decline.
      await recordOutcome({ status: 'requires_action', paymentIntentId: result.paymentIntentId });
      return finish(deps, { outcome: 'processing', order: { ...claimed, status: 'requires_action' } });
    case 'unknown':
      logger.warn({ ...log, reason: result.reason }, 'provider outcome unknown; attempt left processing');
      return finish(deps, { outcome: 'processing', order: claimed });
  }
}

async function declineOfLatestAttempt(deps: PaymentsDeps, order: Order): Promise<DomainError> {
  const latest = await latestAttempt(deps.db, order.id);
  deps.hooks?.outcome?.('declined');
  return latest?.declineCode
    ? new DomainError({
        code: 'PAYMENT_DECLINED',
        orderId: order.id,
        declineCode: latest.declineCode,
        providerMessage: '',
      })
    : new DomainError({
        code: 'PAYMENT_REJECTED',
        orderId: order.id,
        providerCode: latest?.errorCode ?? 'unknown',
        providerMessage: '',
      });
}

function finish(deps: PaymentsDeps, outcome: PayOutcome): PayOutcome {
  deps.hooks?.outcome?.(outcome.outcome);
  return outcome;
}
