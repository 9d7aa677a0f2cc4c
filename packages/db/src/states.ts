/**
 * The order and payment-attempt state machines, in one place: the PostgreSQL enums, the allowed
 * transitions, and the moves the money statements make. Every statement that changes a status
 * takes its `from`/`to` sets from `CLAIM` and `SETTLE` below and renders them with `statusIn` /
 * `status`, so adding a state or a move is one edit here that the SQL follows. No status literal
 * appears in SQL anywhere else (test/states.test.ts scans the repository for one).
 */
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { pgEnum } from 'drizzle-orm/pg-core';

export const ORDER_STATUSES = [
  'pending',
  'processing',
  'paid',
  'failed',
  'requires_action',
  'canceled',
  'partially_refunded',
  'refunded',
  'authorized',
  'capturing',
  'voiding',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * One refund per request to give money back: `pending` from the moment its amount is reserved on
 * the order until the provider's outcome is final (`pending` at the provider, or not known yet).
 */
export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * One payment attempt per claim: `processing` until the provider's outcome is known. A manual-capture
 * attempt that the provider authorized is `authorized` (the funds held) until it is captured
 * (`succeeded`) or the hold is released (`canceled`: voided, or lapsed at the provider).
 */
export const ATTEMPT_STATUSES = [
  'processing',
  'succeeded',
  'failed',
  'requires_action',
  'authorized',
  'canceled',
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** PostgreSQL refuses any value outside these sets. */
export const orderStatus = pgEnum('order_status', ORDER_STATUSES);
/** `manual`: `orders.pay` only authorizes (holds the funds); `orders.capture` takes them later. */
export const CAPTURE_METHODS = ['automatic', 'manual'] as const;
export type CaptureMethod = (typeof CAPTURE_METHODS)[number];
export const captureMethod = pgEnum('capture_method', CAPTURE_METHODS);
export const attemptStatus = pgEnum('attempt_status', ATTEMPT_STATUSES);
export const refundStatus = pgEnum('refund_status', REFUND_STATUSES);

/**
 * Every transition that may ever happen. A paid order's status follows its `refunded_amount` (the
 * refunds reserved or made): a reservation moves it up, a refund that fails gives its amount back
 * and moves it down again (`REFUNDED_STATUS`).
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processing', 'canceled'],
  processing: ['paid', 'failed', 'requires_action', 'authorized'],
  failed: ['processing', 'canceled'],
  requires_action: ['paid', 'failed', 'authorized'],
  // A hold: captured (by us, or outside chargeonce), voided, or lapsed (payable again).
  authorized: ['capturing', 'voiding', 'paid', 'failed'],
  capturing: ['paid', 'authorized', 'failed'],
  voiding: ['canceled', 'authorized', 'paid'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['paid', 'partially_refunded', 'refunded'],
  refunded: ['paid', 'partially_refunded'],
  canceled: [],
};

/** A refund Stripe reports succeeded may still fail later (the card cannot take it back). */
export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: ['succeeded', 'failed'],
  succeeded: ['failed'],
  failed: [],
};

export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  processing: ['succeeded', 'failed', 'requires_action', 'authorized'],
  requires_action: ['succeeded', 'failed', 'authorized'],
  authorized: ['succeeded', 'canceled'],
  succeeded: [],
  failed: [],
  canceled: [],
};

export interface Move<S extends string> {
  readonly from: readonly S[];
  readonly to: S;
}

/** A move of an order together with the move of the attempt that causes it (one statement). */
export interface PairedMove {
  readonly order: Move<OrderStatus>;
  readonly attempt: Move<AttemptStatus>;
}

/** An attempt is in flight while the provider's outcome for it may still change. */
const ATTEMPT_IN_FLIGHT = ['processing', 'requires_action'] as const satisfies readonly AttemptStatus[];
const ORDER_IN_FLIGHT = ['processing', 'requires_action'] as const satisfies readonly OrderStatus[];

/**
 * The claim: a new attempt takes a payable order. The attempt row is inserted in `to` (it has no
 * `from`: it did not exist).
 */
export const CLAIM = {
  order: { from: ['pending', 'failed'], to: 'processing' },
  attempt: { from: [], to: 'processing' },
} as const satisfies PairedMove;

/**
 * Settling an attempt with the provider's outcome, keyed by the outcome: the attempt and its order
 * move together, from any in-flight state that may still lead there. Payer, webhook, recovery and
 * reconciliation all settle through these moves.
 */
export const SETTLE = {
  succeeded: {
    order: { from: ORDER_IN_FLIGHT, to: 'paid' },
    attempt: { from: ATTEMPT_IN_FLIGHT, to: 'succeeded' },
  },
  failed: {
    order: { from: ORDER_IN_FLIGHT, to: 'failed' },
    attempt: { from: ATTEMPT_IN_FLIGHT, to: 'failed' },
  },
  requires_action: {
    order: { from: ['processing'], to: 'requires_action' },
    attempt: { from: ['processing'], to: 'requires_action' },
  },
  authorized: {
    order: { from: ORDER_IN_FLIGHT, to: 'authorized' },
    attempt: { from: ATTEMPT_IN_FLIGHT, to: 'authorized' },
  },
} as const satisfies Record<'succeeded' | 'failed' | 'requires_action' | 'authorized', PairedMove>;

/**
 * How many moves an attempt in each in-flight state has made since its claim. Every move of an
 * attempt bumps its order's version in the same statement, so while the attempt is the order's
 * current one, the order's version is the claim version plus this: what a settle checks before it
 * moves anything.
 */
export const MOVES_SINCE_CLAIM = {
  processing: 0,
  requires_action: 1,
} as const satisfies Record<(typeof ATTEMPT_IN_FLIGHT)[number], number>;

/**
 * What becomes of an authorization (an order `authorized` by its attempt's hold), keyed by what
 * the provider says of its PaymentIntent: captured (by our capture, or outside chargeonce), released
 * because we voided it, or released otherwise (the hold lapsed, or was canceled outside
 * chargeonce: the order may be paid again). Each moves the order, its authorized attempt and the
 * pending capture or void of it in one statement.
 */
export const AUTHORIZATION_SETTLE = {
  captured: {
    order: { from: ['authorized', 'capturing', 'voiding'], to: 'paid' },
    attempt: { from: ['authorized'], to: 'succeeded' },
  },
  voided: {
    order: { from: ['voiding'], to: 'canceled' },
    attempt: { from: ['authorized'], to: 'canceled' },
  },
  lapsed: {
    order: { from: ['authorized', 'capturing'], to: 'failed' },
    attempt: { from: ['authorized'], to: 'canceled' },
  },
} as const satisfies Record<string, PairedMove>;

/** A capture or a void takes an authorized order: one conditional statement, so one of them wins. */
export const CAPTURE_START = { from: ['authorized'], to: 'capturing' } as const satisfies Move<OrderStatus>;
export const VOID_START = { from: ['authorized'], to: 'voiding' } as const satisfies Move<OrderStatus>;
/** The provider refused a capture or void before executing it and the hold is still open. */
export const AUTHORIZATION_REOPEN = {
  from: ['capturing', 'voiding'],
  to: 'authorized',
} as const satisfies Move<OrderStatus>;

/** Orders holding an authorization (captured or released later), and those a capture or void is deciding. */
export const AUTHORIZED_STATUSES: readonly OrderStatus[] = ['authorized', 'capturing', 'voiding'];

/** One row per capture or void requested of an authorization, `pending` until the provider's outcome is known. */
export const CAPTURE_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type CaptureStatus = (typeof CAPTURE_STATUSES)[number];
export const captureStatus = pgEnum('capture_status', CAPTURE_STATUSES);
export const CAPTURE_KINDS = ['capture', 'void'] as const;
export type CaptureKind = (typeof CAPTURE_KINDS)[number];
export const captureKind = pgEnum('capture_kind', CAPTURE_KINDS);
export const CAPTURE_TRANSITIONS: Readonly<Record<CaptureStatus, readonly CaptureStatus[]>> = {
  pending: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

/** Every move a statement makes, for the test that walks them against the transition tables. */
export const MOVES: readonly PairedMove[] = [
  CLAIM,
  ...Object.values(SETTLE),
  ...Object.values(AUTHORIZATION_SETTLE),
];

/** Cancel: an order nobody is paying, or whose payment failed, is closed; nothing claims it again. */
export const CANCEL = { from: ['pending', 'failed'], to: 'canceled' } as const satisfies Move<OrderStatus>;

/** Orders a refund may reserve from, and the statuses a paid order's `refunded_amount` moves it among. */
export const REFUNDABLE_STATUSES = ['paid', 'partially_refunded'] as const satisfies readonly OrderStatus[];
export const REFUNDED_STATUS = {
  none: 'paid',
  part: 'partially_refunded',
  all: 'refunded',
} as const satisfies Record<string, OrderStatus>;

/**
 * Settling a refund with the provider's outcome. A failed refund gives its reserved amount back to
 * the order in the same statement; a success changes only the refund (the amount was reserved).
 */
export const REFUND_SETTLE = {
  succeeded: { from: ['pending'], to: 'succeeded' },
  failed: { from: ['pending'], to: 'failed' },
} as const satisfies Record<Exclude<RefundStatus, 'pending'>, Move<RefundStatus>>;

/**
 * A refund Stripe reported succeeded and later reports failed (the card could not take it back).
 * Only a failure read from Stripe for that very refund id makes this move: a failure we conclude
 * ourselves (refused, abandoned) never overrides a success.
 */
export const REFUND_REVERSAL = { from: ['succeeded'], to: 'failed' } as const satisfies Move<RefundStatus>;

/** Refunds whose outcome may still change: recovery leases them, webhooks settle them. */
export const IN_FLIGHT_REFUND_STATUSES: readonly RefundStatus[] = ['pending'];

/**
 * The order status for a refunded amount (SQL over the order's columns): `paid` with nothing
 * refunded, `refunded` with all of it, `partially_refunded` between.
 */
export function refundedStatusFor(refundedAmount: SQL | AnyColumn, amount: SQL | AnyColumn): SQL {
  return sql`(case when ${refundedAmount} = 0 then ${status(REFUNDED_STATUS.none)} when ${refundedAmount} = ${amount} then ${status(REFUNDED_STATUS.all)} else ${status(REFUNDED_STATUS.part)} end)::order_status`;
}

/** Orders a new attempt may claim. */
export const PAYABLE_STATUSES: readonly OrderStatus[] = CLAIM.order.from;
/** Orders awaiting their attempt's outcome. */
export const IN_FLIGHT_ORDER_STATUSES: readonly OrderStatus[] = ORDER_IN_FLIGHT;
/** Attempts whose outcome may still change: recovery leases them, reconciliation heals them. */
export const IN_FLIGHT_ATTEMPT_STATUSES: readonly AttemptStatus[] = ATTEMPT_IN_FLIGHT;
/** Orders that have been paid (possibly refunded since). */
export const PAID_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded'];

export const isPayable = (s: OrderStatus) => PAYABLE_STATUSES.includes(s);
export const isPaid = (s: OrderStatus) => PAID_STATUSES.includes(s);
export const isOrderInFlight = (s: OrderStatus) => IN_FLIGHT_ORDER_STATUSES.includes(s);
export const isAttemptInFlight = (s: AttemptStatus) => IN_FLIGHT_ATTEMPT_STATUSES.includes(s);
export const isAuthorized = (s: OrderStatus) => AUTHORIZED_STATUSES.includes(s);

export function canTransition<S extends string>(
  table: Readonly<Record<S, readonly S[]>>,
  from: S,
  to: S,
): boolean {
  return table[from].includes(to);
}

const KNOWN: ReadonlySet<string> = new Set<string>([
  ...ORDER_STATUSES,
  ...ATTEMPT_STATUSES,
  ...REFUND_STATUSES,
  ...CAPTURE_STATUSES,
]);
type AnyStatus = OrderStatus | AttemptStatus | RefundStatus | CaptureStatus;

/**
 * A status as an SQL literal. Literals, not parameters: the planner must see the constant to use
 * a partial index (`WHERE status = 'processing'`), and the statement text stays the same for every
 * call (one prepared statement).
 */
export function status(value: AnyStatus): SQL {
  if (!KNOWN.has(value)) throw new Error(`not a status: ${value}`);
  return sql.raw(`'${value}'`);
}

/**
 * The order version a settle expects, as SQL over the attempt's status column: its claim version
 * plus the moves it has made (`MOVES_SINCE_CLAIM`).
 */
export function expectedOrderVersion(attemptStatus: AnyColumn, claimVersion: AnyColumn): SQL {
  const cases = Object.entries(MOVES_SINCE_CLAIM).map(
    ([s, moves]) => sql`when ${status(s as AttemptStatus)} then ${sql.raw(String(moves))}`,
  );
  return sql`${claimVersion} + case ${attemptStatus} ${sql.join(cases, sql` `)} end`;
}

/** `column in ('a', 'b')` over a set of statuses (`false` for an empty set). */
export function statusIn(column: AnyColumn | SQL, values: readonly AnyStatus[]): SQL {
  if (values.length === 0) return sql`false`;
  return sql`${column} in (${sql.join(values.map(status), sql`, `)})`;
}
