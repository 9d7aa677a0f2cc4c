import { type Executor, paymentAttempts, statusIn } from '@chargeonce/db';
import { and, inArray, or } from 'drizzle-orm';
import { authorizationOutcome } from './capture';
import { settleAuthorization } from './capture-store';
import type { PaymentsDeps } from './deps';
import type { ProviderPaymentIntent } from './gateway';
import { isUuid } from './ids';
import { attemptOutcome } from './outcome';
import { finalizeAttempt } from './settle';

export type HoldFindingKind =
  /** A hold or challenge the provider settled while ours was still open: settled here (healed). */
  | 'authorization_healed'
  /** An open hold or challenge of ours whose PaymentIntent could not be read. */
  | 'authorization_unknown';

/** Provider states that settle an open hold or challenge of ours (succeeded is reconcile.ts's). */
const SETTLING = ['requires_capture', 'canceled', 'requires_payment_method'];

/**
 * The window's PaymentIntents that held funds, were canceled or failed authentication, matched with
 * our attempts still open (in flight, or authorized): each is re-read and settled with the same
 * conditional statements as the payer, the webhook and recovery.
 */
export async function reconcileHolds(
  deps: PaymentsDeps,
  intents: ProviderPaymentIntent[],
  options: { heal: boolean },
): Promise<{ kind: HoldFindingKind; orderId: string; paymentIntentId: string; detail: string }[]> {
  const candidates = intents.filter((pi) => SETTLING.includes(pi.status));
  if (candidates.length === 0 || !options.heal) return [];
  const open = await openAttempts(deps.db, candidates);
  const findings = [];
  for (const attempt of open) {
    const pi = candidates.find(
      (p) => p.id === attempt.paymentIntentId || p.metadata.attempt_id === attempt.id,
    );
    if (!pi) continue;
    const current = await deps.gateway.retrieve(pi.id);
    const at = { orderId: attempt.orderId, paymentIntentId: pi.id };
    let settled: unknown;
    if (attempt.status === 'authorized') {
      const outcome = authorizationOutcome(current);
      settled = outcome && (await settleAuthorization(deps.db, { ...at, outcome }));
    } else {
      const outcome = attemptOutcome(current, { keyMayHaveExecuted: true });
      settled =
        outcome &&
        outcome.status !== attempt.status &&
        (await finalizeAttempt(deps.db, {
          orderId: attempt.orderId,
          attemptId: attempt.id,
          claimVersion: attempt.claimVersion,
          outcome,
        }));
    }
    if (settled)
      findings.push({ kind: 'authorization_healed' as const, ...at, detail: `provider ${pi.status}` });
    else if (current.kind === 'unknown')
      findings.push({ kind: 'authorization_unknown' as const, ...at, detail: current.reason });
  }
  return findings;
}

function openAttempts(db: Executor, intents: ProviderPaymentIntent[]) {
  const a = paymentAttempts;
  const attemptIds = intents.map((pi) => pi.metadata.attempt_id).filter(isUuid);
  return db
    .select()
    .from(a)
    .where(
      and(
        statusIn(a.status, ['processing', 'requires_action', 'authorized']),
        or(
          inArray(
            a.paymentIntentId,
            intents.map((pi) => pi.id),
          ),
          attemptIds.length ? inArray(a.id, attemptIds) : undefined,
        ),
      ),
    );
}
