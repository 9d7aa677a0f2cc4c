import type { EmulatedPaymentIntent } from '@chargeonce/stripe-emulator';
import type { Exit } from './cluster';
import { type Findings, findings, isPaidRow, merge, type OrderRow, type PayAnswer } from './invariants';

/**
 * One answer a server gave to one tRPC call, as the caller's fetch saw it (before the client-side
 * drop, and before the typed client retried anything: a 500 it retried away still counts).
 */
export interface AnswerRecord {
  procedure: string;
  /** The mutation's idempotency key; `query` for queries. */
  caller: string;
  /** The call's HTTP status: its error's `httpStatus` (a batch answers 207 for mixed results), else 200. */
  status: number;
  /** tRPC code and domain code of an error answer. */
  code: string | undefined;
  domainCode: string | undefined;
  retryAfterMs: number | undefined;
  /** The response's Retry-After header; a request of one call only (a batch's calls share headers). */
  retryAfter: string | null;
  calls: number;
}

interface TrpcItem {
  error?: {
    data?: { code?: string; httpStatus?: number; domainCode?: string | null; retryAfterMs?: number };
  };
}

/**
 * The answers in one tRPC response (`res` is read: pass a clone). `url` names the procedures (a
 * batch: `orders.get,orders.get?batch=1`); `body` is a mutation's input, with its key.
 */
export async function readAnswers(res: Response, url: string, body: unknown): Promise<AnswerRecord[]> {
  const procedures = decodeURIComponent(url.split('/trpc/')[1]?.split('?')[0] ?? '?').split(',');
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // not tRPC's JSON (a proxy's, or a crash's page): only the status is known
  }
  const items: TrpcItem[] = Array.isArray(parsed) ? parsed : [(parsed ?? {}) as TrpcItem];
  const key = typeof body === 'string' ? /"idempotencyKey":"([^"]+)"/.exec(body)?.[1] : undefined;
  return procedures.map((procedure, i) => {
    const error = parsed === undefined && res.status >= 400 ? { data: {} } : items[i]?.error;
    const data = error?.data;
    return {
      procedure,
      caller: key ?? 'query',
      status: error ? (data?.httpStatus ?? res.status) : 200,
      code: data?.code,
      domainCode: data?.domainCode ?? undefined,
      retryAfterMs: data?.retryAfterMs,
      retryAfter: res.headers.get('retry-after'),
      calls: procedures.length,
    };
  });
}

/** Typed answers that say "try again": the database or the provider could not serve. */
const RETRYABLE_503 = new Set(['DATABASE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE']);

export interface AnswerCounts {
  answers: number;
  answers500: number;
  answers503: number;
  databaseUnavailable: number;
  /** Every answer that was not a result, by `procedure status domainCode`, for the scenario's line. */
  errors: Record<string, number>;
}

/**
 * Every answer a caller got is a result, `processing`, or a typed error: an HTTP 500 is a violation
 * (`answers500`), and so is any other 5xx that is not a retryable typed 503 — a DATABASE_UNAVAILABLE
 * without its `retryAfterMs`, or without a Retry-After header when the request was one call
 * (`untypedErrors`).
 */
export function auditAnswers(answers: AnswerRecord[]): Findings & AnswerCounts {
  const found = findings();
  // An answer names no order (a query's, a create's): noted without one.
  const flag = (kind: 'answers500' | 'untypedErrors', what: string) => {
    found.violations[kind]++;
    found.details.push(`${kind}: ${what}`);
  };
  const counts: AnswerCounts = {
    answers: answers.length,
    answers500: 0,
    answers503: 0,
    databaseUnavailable: 0,
    errors: {},
  };
  for (const a of answers) {
    const kind = `${a.procedure} ${a.status} ${a.domainCode ?? a.code ?? ''}`.trim();
    if (a.status !== 200) counts.errors[kind] = (counts.errors[kind] ?? 0) + 1;
    const what = `${a.procedure} (${a.caller}) answered ${a.status} ${a.code ?? ''} ${a.domainCode ?? ''}`;
    if (a.status === 503) counts.answers503++;
    if (a.domainCode === 'DATABASE_UNAVAILABLE') counts.databaseUnavailable++;
    if (a.status === 500 || a.code === 'INTERNAL_SERVER_ERROR') {
      counts.answers500++;
      flag('answers500', what);
      continue;
    }
    if (a.status < 500) continue;
    const typed = a.status === 503 && a.domainCode !== undefined && RETRYABLE_503.has(a.domainCode);
    const hinted =
      a.domainCode !== 'DATABASE_UNAVAILABLE' ||
      (a.retryAfterMs !== undefined && (a.calls > 1 || a.retryAfter !== null));
    if (!typed || !hinted) flag('untypedErrors', `${what}, retryAfterMs ${a.retryAfterMs}`);
  }
  return { violations: found.violations, details: found.details, orderIds: found.orderIds, ...counts };
}

/**
 * No false failure: a payer told `declined` while the card it paid with is the one that paid the
 * order (its PaymentIntent succeeded) was told its payment failed when it went through — and invited
 * to pay again. `cards`: each order's own card, used by a pay that names none.
 */
export function auditFalseFailures(
  pays: PayAnswer[],
  orders: OrderRow[],
  ledger: EmulatedPaymentIntent[],
  cards: ReadonlyMap<string, string>,
): Findings {
  const { flag, ...found } = findings();
  const byId = new Map(orders.map((o) => [o.id, o]));
  const intents = new Map(ledger.map((pi) => [pi.id, pi]));
  for (const a of pays) {
    if (a.outcome !== 'declined') continue;
    const order = byId.get(a.orderId);
    if (!isPaidRow(order)) continue;
    const paidWith = intents.get(order?.payment_intent_id ?? '')?.payment_method;
    const card = a.paymentMethodId ?? cards.get(a.orderId);
    if (paidWith !== undefined && paidWith === card)
      flag('falseFailures', a.orderId, `a payer was told declined (${card}), the order was paid with it`);
  }
  return found;
}

/** Every server process is alive at the end, or was killed by the harness: none exited on its own. */
export function auditExits(exits: Exit[]): Findings {
  const { flag: _, ...found } = findings();
  for (const e of exits) {
    found.violations.serversExited++;
    found.details.push(`serversExited: ${e.instanceId} exited (${e.code}): ${e.output.join(' | ')}`);
  }
  return found;
}

export interface CallerCounts extends AnswerCounts {
  /** Pays told `processing` (charged, or maybe, and not recorded yet). */
  processing: number;
}

/** What the callers were told (`auditAnswers`, `auditFalseFailures`) and whether every server lived. */
export function auditCallers(
  told: { answers: AnswerRecord[]; pays: PayAnswer[]; exits: Exit[] },
  orders: OrderRow[],
  ledger: EmulatedPaymentIntent[],
  cards: ReadonlyMap<string, string>,
): Findings & CallerCounts {
  const { violations, details, orderIds, ...counts } = auditAnswers(told.answers);
  const found: Findings = { violations, details, orderIds };
  merge(found, auditFalseFailures(told.pays, orders, ledger, cards));
  merge(found, auditExits(told.exits));
  return { ...found, ...counts, processing: told.pays.filter((a) => a.outcome === 'processing').length };
}
