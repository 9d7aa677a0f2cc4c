import type { AppRouter } from '@chargeonce/api';
import { TRPCClientError } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';

type Outputs = inferRouterOutputs<AppRouter>;
export type Overview = Outputs['operations']['overview'];
export type AwaitingItem = Overview['attempts'][number];
export type RecoverAnswer = Outputs['operations']['recover'];
export type RecoverOutcome = RecoverAnswer['outcome'];

/** The operator page is shown to a session holding `operations:read`; its actions need `operations:write`. */
export const canOperate = (scopes: readonly string[] | undefined) =>
  scopes?.includes('operations:read') ?? false;
export const canAct = (scopes: readonly string[] | undefined) =>
  scopes?.includes('operations:write') ?? false;

/** What may be recovered from the page: an open hold is the merchant's to capture or release. */
export const recoverable = (
  item: AwaitingItem,
): item is AwaitingItem & { kind: 'attempt' | 'refund' | 'capture' } => item.kind !== 'authorization';

/** Everything awaiting an outcome, oldest first (the server sends each kind oldest first). */
export function awaitingRows(overview: Overview): AwaitingItem[] {
  return [...overview.attempts, ...overview.refunds, ...overview.captures, ...overview.authorizations].sort(
    (a, b) => b.ageSeconds - a.ageSeconds,
  );
}

/** An age as a person reads it: the largest two units (`3 d 4 h`, `2 min 5 s`, `12 s`). */
export function ageInWords(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0 s';
}

export const KIND_LABELS: Record<AwaitingItem['kind'], string> = {
  attempt: 'Payment attempt',
  refund: 'Refund',
  capture: 'Capture or void',
  authorization: 'Open hold',
};

/** What a row's status means while it waits. */
export function waitingFor(item: AwaitingItem): string {
  switch (item.kind) {
    case 'attempt':
      return item.status === 'requires_action' ? '3-D Secure challenge open' : 'provider outcome unknown';
    case 'refund':
      return 'refund outcome unknown';
    case 'capture':
      return item.status === 'void' ? 'void outcome unknown' : 'capture outcome unknown';
    case 'authorization':
      return 'held, to capture or release';
  }
}

/** Typed by the API's output: a new outcome does not compile unnamed. */
const OUTCOMES: Record<RecoverOutcome, string> = {
  succeeded: 'settled: succeeded',
  failed: 'settled: failed',
  authorized: 'settled: authorized (a hold)',
  settled: 'settled',
  authorization_settled: 'settled',
  requires_action: 'still waiting for the customer’s 3-D Secure challenge',
  pending: 'still pending at the provider; try again later',
  authorization_open: 'still held at the provider',
  unknown: 'the provider’s outcome is still unknown; try again later',
  already_final: 'already settled; nothing was sent',
  busy: 'a recovery worker is on it right now; look again in a moment',
  taken_over: 'a recovery worker is on it right now; look again in a moment',
};

export function recoverOutcomeInWords(answer: Pick<RecoverAnswer, 'outcome' | 'status'>): string {
  return `${OUTCOMES[answer.outcome]} (now ${answer.status.replace('_', ' ')})`;
}

/** How many Recover answers the page keeps on show, newest first. */
export const ANSWERS_SHOWN = 5;

/**
 * The answers shown after a Recover, newest first: the same answer twice (a double click sends one
 * key, and the server answers both requests with the one outcome) is one line, moved to the top.
 */
export function withAnswer(shown: readonly string[], answer: string): string[] {
  return [answer, ...shown.filter((line) => line !== answer)].slice(0, ANSWERS_SHOWN);
}

const REFUSALS: Record<string, string> = {
  bad_signature: 'bad or missing signature',
  database_unavailable: 'database unavailable (Stripe delivers it again)',
  error: 'unexpected error (Stripe delivers it again)',
  retry_later: 'payment could not be re-read (Stripe delivers it again)',
  unknown_payment_intent: 'no payment of ours matches',
};

export const refusalInWords = (reason: string) =>
  Object.hasOwn(REFUSALS, reason) ? REFUSALS[reason]! : reason;

/**
 * "Reconcile now" met a reconciliation still running on that server (RECONCILIATION_RUNNING):
 * nothing was started, and pressing again once it finished runs one. Undefined for other errors.
 */
export function reconcileRunningInWords(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data = (error as TRPCClientError<AppRouter>).data;
  return data?.domainCode === 'RECONCILIATION_RUNNING'
    ? 'A reconciliation is already running on the server; nothing new was started. Its run shows here once it finishes; press again after that if you still need one.'
    : undefined;
}

/** What the operator page shows while the session's scopes are asked for (`principal.whoami`). */
export type OperatorGate = 'loading' | 'error' | 'page' | 'not-found';

/**
 * Known scopes decide; without them, a failed `whoami` is an error to show (with a retry), never
 * "Loading…" for good; otherwise it is still on its way.
 */
export function operatorGate(whoami: {
  scopes: readonly string[] | undefined;
  failed: boolean;
}): OperatorGate {
  if (whoami.scopes !== undefined) return canOperate(whoami.scopes) ? 'page' : 'not-found';
  return whoami.failed ? 'error' : 'loading';
}
