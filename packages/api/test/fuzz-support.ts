import { SCOPES as ALL_SCOPES, type DbHandle, type Scope, USER_SCOPES } from '@chargeonce/db';
import { createOrder } from '@chargeonce/payments';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import { fc } from '@fast-check/vitest';
import { afterEach } from 'vitest';

/**
 * What the fuzzing of the orders procedures is made of, in process (./fuzz.test.ts) and over HTTP
 * (tests/support/fuzz.ts): the callers, the rows inputs name by placeholder, each procedure's input
 * (valid-looking, with fields broken by the transport's own odd values), which calls must succeed,
 * and what a refused call must leave as it was.
 *
 * FUZZ_SEED replays a run (fast-check prints the seed and path of a failure); FUZZ_SCALE multiplies
 * the number of runs (and the ceilings) for a longer session.
 */
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const scale = Number(process.env.FUZZ_SCALE ?? 1);
export const fuzzParams = (runs: number) => ({
  numRuns: Math.max(1, Math.round(runs * scale)),
  ...(seed === undefined ? {} : { seed }),
});
/** A ceiling, not a wait: `ms` at scale 1, growing with FUZZ_SCALE. */
export const fuzzCeilingMs = (ms: number) => ms * Math.max(1, scale);

/**
 * A property's predicate, tracked so that the next test starts only when every run has ended.
 * fast-check's `interruptAfterTimeLimit` stops waiting for the run it cuts off at the limit, but that
 * call goes on in the background (a predicate cannot be stopped): left alone, it holds a key or moves
 * a row while the next property compares snapshots, a failure that is not the code's. Call once per
 * file, at the top level.
 */
export function awaitInterruptedRuns() {
  const running = new Set<Promise<unknown>>();
  afterEach(async () => {
    await Promise.allSettled([...running]);
  });
  return <A extends unknown[]>(predicate: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      const run = predicate(...args);
      running.add(run);
      run.then(
        () => running.delete(run),
        () => running.delete(run),
      );
      return run;
    };
}

// ---------------------------------------------------------------------------------------------
// Callers, and the rows inputs name by placeholder

export const PRINCIPALS = [
  'A',
  'B',
  'service',
  'service-read',
  'service-none',
  'anonymous',
  'unknown',
  'garbage',
] as const;
export type PrincipalName = (typeof PRINCIPALS)[number];
export const SCOPES: Record<PrincipalName, readonly Scope[]> = {
  A: USER_SCOPES,
  B: USER_SCOPES,
  service: ALL_SCOPES,
  'service-read': ['orders:read'],
  'service-none': [],
  anonymous: [],
  unknown: [],
  garbage: [],
};
export const UNAUTHENTICATED: readonly PrincipalName[] = ['anonymous', 'unknown', 'garbage'];
export const isUser = (p: PrincipalName): p is 'A' | 'B' => p === 'A' || p === 'B';

/** Rows named in inputs: users, each user's orders (pending, paid), and orders made for one run. */
type Ref = '$A' | '$B' | '$A_ORDER' | '$A_ORDER_UPPER' | '$A_PAID' | '$B_ORDER' | '$B_PAID' | '$FRESH_A';
const OWNER: Partial<Record<string, 'A' | 'B'>> = {
  $A_ORDER: 'A',
  $A_ORDER_UPPER: 'A',
  $A_PAID: 'A',
  $B_ORDER: 'B',
  $B_PAID: 'B',
  $FRESH_A: 'A',
};
export const ABSENT = Symbol('absent');

// ---------------------------------------------------------------------------------------------
// Odd values any transport carries (each fuzzing adds its own)

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
export const LONG = 'x'.repeat(10_000);
/** Long strings are generated as these names and expanded per run, so failures print short. */
const EXPANSIONS: Record<string, string> = {
  $LONG: LONG,
  $UNICORNS: '🦄'.repeat(3_000),
  $PM_LONG: `pm_${LONG}`,
};
/** `record[key]` when it is the record's own: a key such as `__proto__` or `constructor` stays itself. */
const own = (record: Record<string, string>, key: string) =>
  Object.hasOwn(record, key) ? record[key] : undefined;
export const ODD_STRINGS = [
  "'; drop table orders; --",
  "' OR '1'='1",
  '1; select pg_sleep(5)',
  "pm_card_visa'; delete from payment_attempts; --",
  '$1',
  '',
  ' ',
  '\u0000',
  'pm_card_visa\u0000',
  '\u0001\u001f\u007f',
  '\r\n',
  '\ud800',
  '🦄',
  '\u202e',
  'K',
  '\u212a', // KELVIN SIGN: lower-cases to ASCII k
  'null',
  'NaN',
  'Infinity',
  '-Infinity',
  '4200',
  '1e3',
  '0x10',
  ...Object.keys(EXPANSIONS),
];
export const BOUNDARY_NUMBERS = [
  0,
  1,
  -1,
  29,
  30,
  49,
  50,
  99_999_999,
  100_000_000,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  0.5,
  4200.5,
  4200.000001,
  1e21,
  2 ** 31,
];
export const ODD_UUIDS = [
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-4000-8000-00000000000g',
  '{00000000-0000-4000-8000-000000000000}',
  ' 00000000-0000-4000-8000-000000000000',
];

const defineOwn = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
/** A copy of `target` with `key` its own data property (even `__proto__`). */
export const withOwnKey = (target: object, key: string, value: unknown) =>
  defineOwn({ ...target }, key, value);
/** Objects with prototype keys of their own, next to the fields the procedures read. */
export const protoObject = fc
  .array(
    fc.tuple(
      fc.constantFrom(...PROTO_KEYS, 'amount', 'orderId', 'limit', 'userId'),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    { maxLength: 4 },
  )
  .map((entries) => entries.reduce<object>((o, [k, v]) => withOwnKey(o, k, v), {}));

// ---------------------------------------------------------------------------------------------
// Each procedure's input

export const PROCEDURES = ['create', 'get', 'list', 'pay', 'refund', 'cancel', 'capture', 'void'] as const;
export type Procedure = (typeof PROCEDURES)[number];
export const SCOPE: Record<Procedure, Scope> = {
  create: 'orders:write',
  get: 'orders:read',
  list: 'orders:read',
  pay: 'orders:pay',
  refund: 'orders:refund',
  cancel: 'orders:write',
  capture: 'orders:capture',
  void: 'orders:capture',
};

export interface Generated {
  input: unknown;
  /** Every field was generated valid (whether the call must succeed also depends on the caller). */
  fieldsValid: boolean;
}
export interface Case extends Generated {
  principal: PrincipalName;
}
/** Mostly the callers with every scope; every kind of caller now and then. */
export const principal = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<PrincipalName>('A', 'service') },
  { weight: 1, arbitrary: fc.constantFrom(...PRINCIPALS) },
);

/**
 * Every procedure's input, its fields broken with `weird` (the transport's odd values) and its ids
 * with `oddUuids` too, and `caseFor` a procedure: an input (now and then nothing like its shape)
 * with the caller that sends it.
 */
export function fuzzInputs(weird: fc.Arbitrary<unknown>, oddUuids: readonly string[]) {
  const weirdUuid = fc.oneof(fc.uuid(), fc.constantFrom(...oddUuids), weird);
  /** A field: a valid value (tagged true) four times in five, else anything (tagged false). */
  const field = (valid: fc.Arbitrary<unknown>, broken: fc.Arbitrary<unknown> = weird) =>
    fc.oneof(
      { weight: 4, arbitrary: valid.map((v) => [v, true] as const) },
      { weight: 1, arbitrary: broken.map((v) => [v, false] as const) },
    );
  const optional = <T>(a: fc.Arbitrary<T>) => fc.oneof(fc.constant<typeof ABSENT>(ABSENT), a);
  const record = (fields: Record<string, fc.Arbitrary<readonly [unknown, boolean]>>) =>
    fc.record(fields).map(
      (r): Generated => ({
        input: Object.fromEntries(Object.entries(r).flatMap(([k, [v]]) => (v === ABSENT ? [] : [[k, v]]))),
        fieldsValid: Object.values(r).every(([, ok]) => ok),
      }),
    );
  /** Mostly the procedure's own shape; sometimes an extra key, or nothing like it at all. */
  const shaped = (base: fc.Arbitrary<Generated>) =>
    fc.oneof(
      { weight: 6, arbitrary: base },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            base,
            fc.constantFrom(...PROTO_KEYS, 'status', 'id', 'AMOUNT', 'amount ', '', '$LONG'),
            weird,
          )
          .map(([g, key, value]) => ({
            input: withOwnKey((g.input ?? {}) as object, key, value),
            fieldsValid: false,
          })),
      },
      { weight: 1, arbitrary: weird.map((input) => ({ input, fieldsValid: false })) },
    );

  const userRef = fc.constantFrom<Ref>('$A', '$B');
  const orderRef = fc.constantFrom<Ref>('$A_ORDER', '$A_ORDER_UPPER', '$A_PAID', '$B_ORDER', '$B_PAID');
  const paymentMethod = fc.oneof(
    fc.constantFrom('pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined', `pm_${'a'.repeat(100)}`),
    fc.stringMatching(/^pm_[A-Za-z0-9_]{1,100}$/),
  );
  /** Idempotency keys: unique per run when valid (a key reused with other input is refused). */
  const idempotencyKey = field(
    optional(
      fc.oneof(
        fc.uuid(),
        fc.tuple(fc.uuid(), fc.stringMatching(/^[\x20-\x7E]{0,219}$/)).map(([id, tail]) => id + tail),
      ),
    ),
  );
  const INPUTS: Record<Procedure, fc.Arbitrary<Generated>> = {
    create: record({
      amount: field(fc.integer({ min: 17_500, max: 99_999_999 })),
      currency: field(
        fc.oneof(fc.constantFrom('usd', 'EUR', 'gbp', 'JPY', 'huf'), fc.stringMatching(/^[A-Za-z]{3}$/)),
      ),
      paymentMethodId: field(paymentMethod),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
    get: record({ orderId: field(orderRef, weirdUuid), userId: field(optional(userRef), weirdUuid) }),
    list: fc.oneof(
      fc.constant({ input: undefined, fieldsValid: true }),
      record({
        limit: field(optional(fc.integer({ min: 1, max: 100 }))),
        cursor: field(optional(fc.oneof(fc.constant(null), orderRef, fc.uuid({ version: 4 }))), weirdUuid),
        userId: field(optional(userRef), weirdUuid),
      }),
    ),
    pay: record({
      orderId: field(fc.oneof(orderRef, fc.constant<Ref>('$FRESH_A')), weirdUuid),
      paymentMethodId: field(optional(paymentMethod)),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
    refund: record({
      orderId: field(fc.oneof(orderRef, fc.constant<Ref>('$FRESH_A')), weirdUuid),
      amount: field(optional(fc.integer({ min: 1, max: 6_000 }))),
      reason: field(optional(fc.constantFrom('duplicate', 'fraudulent', 'requested_by_customer'))),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
    cancel: record({
      orderId: field(fc.oneof(orderRef, fc.constant<Ref>('$FRESH_A')), weirdUuid),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
    capture: record({
      orderId: field(fc.oneof(orderRef, fc.constant<Ref>('$FRESH_A')), weirdUuid),
      amount: field(optional(fc.integer({ min: 1, max: 6_000 }))),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
    void: record({
      orderId: field(fc.oneof(orderRef, fc.constant<Ref>('$FRESH_A')), weirdUuid),
      userId: field(optional(userRef), weirdUuid),
      idempotencyKey,
    }),
  };
  const caseFor = (procedure: Procedure): fc.Arbitrary<Case> =>
    fc.tuple(principal, shaped(INPUTS[procedure])).map(([p, generated]) => ({ principal: p, ...generated }));
  return { INPUTS, caseFor };
}

// ---------------------------------------------------------------------------------------------
// What must happen

export const named = (input: unknown, key: string): unknown =>
  input !== null && typeof input === 'object' && Object.hasOwn(input, key)
    ? (input as Record<string, unknown>)[key]
    : ABSENT;

/** A user may name only itself; a service must name a customer where the call needs one. */
function mayActFor(p: PrincipalName, user: unknown, required: boolean): boolean {
  if (isUser(p)) return user === ABSENT || user === `$${p}`;
  return user === '$A' || user === '$B' || (user === ABSENT && !required);
}

/** True when an entitled caller sent a valid input: the call must then succeed. */
export function mustSucceed(procedure: Procedure, c: Case): boolean {
  if (!c.fieldsValid || !SCOPES[c.principal].includes(SCOPE[procedure])) return false;
  const user = named(c.input, 'userId');
  const order = named(c.input, 'orderId');
  const owner = OWNER[order as string];
  const seesOrder = isUser(c.principal) ? owner === c.principal : user === ABSENT || user === `$${owner}`;
  switch (procedure) {
    case 'create':
    case 'list':
      return mayActFor(c.principal, user, true);
    case 'get':
      return mayActFor(c.principal, user, false) && seesOrder;
    case 'pay':
      // A paid order answers already_paid; other pays depend on the provider.
      return (
        mayActFor(c.principal, user, false) &&
        seesOrder &&
        (order === '$A_PAID' || order === '$B_PAID') &&
        named(c.input, 'paymentMethodId') === ABSENT
      );
    case 'refund':
      // Whether anything is left to refund depends on the calls before.
      return false;
    case 'cancel':
      // A fresh order is pending: the entitled cancel of it succeeds (others may be paid by now).
      return mayActFor(c.principal, user, false) && seesOrder && order === '$FRESH_A';
    case 'capture':
    case 'void':
      // The fuzzed orders capture automatically: none is authorized, each is refused (CONFLICT).
      return false;
  }
}

/** The code a caller must get whatever its input: authentication and scope come first. */
export function deniedAs(procedure: Procedure, p: PrincipalName): 'UNAUTHORIZED' | 'FORBIDDEN' | null {
  if (UNAUTHENTICATED.includes(p)) return 'UNAUTHORIZED';
  return SCOPES[p].includes(SCOPE[procedure]) ? null : 'FORBIDDEN';
}

/**
 * Domain errors that report a payment or refund the provider was asked for: its attempt (or its
 * failed refund, the reservation given back) is recorded.
 */
export const EXECUTED = [
  'PAYMENT_DECLINED',
  'PAYMENT_REJECTED',
  'PROVIDER_UNAVAILABLE',
  'REFUND_FAILED',
  'CAPTURE_FAILED',
  'VOID_FAILED',
  'AUTHORIZATION_EXPIRED',
];

// ---------------------------------------------------------------------------------------------
// The environment: placeholders resolved, and what a call could change

interface Env {
  db: DbHandle;
  emulator: StripeEmulator;
}

export interface Placeholders {
  /** The rows each placeholder names (`$A`, `$A_ORDER`, ...). */
  ids: Record<string, string>;
  /** Whether arrays are resolved item by item (else they are sent as they are). */
  arrays: boolean;
  /** Objects sent as they are, not rebuilt with their keys and values resolved. */
  opaque(value: object): boolean;
}

/** Placeholders become the rows (or long strings) they name; `$FRESH_A` a new pending order of A's. */
export async function resolve(env: Env, how: Placeholders, value: unknown): Promise<unknown> {
  if (value === '$FRESH_A') {
    const order = await createOrder(env.db.db, {
      userId: how.ids.$A as string,
      amount: 5_000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    return order.id;
  }
  if (typeof value === 'string') return own(how.ids, value) ?? own(EXPANSIONS, value) ?? value;
  if (how.arrays && Array.isArray(value)) return Promise.all(value.map((v) => resolve(env, how, v)));
  if (value === null || typeof value !== 'object' || how.opaque(value)) return value;
  const out = {};
  for (const key of Object.keys(value)) {
    defineOwn(
      out,
      own(EXPANSIONS, key) ?? key,
      await resolve(env, how, (value as Record<string, unknown>)[key]),
    );
  }
  return out;
}

/**
 * What a call could change: orders and their versions, attempts, refunds, captures, PaymentIntents; and idempotency
 * keys still held (none may be, once a call has its answer).
 */
export async function snapshot(env: Env) {
  type Counts = {
    orders: number;
    versions: number;
    attempts: number;
    completed: number;
    refunds: number;
    refunded: number;
    captures: number;
    held_keys: number;
  };
  const [row] = await env.db.sql<Counts[]>`
    select (select count(*) from orders)::int as orders,
           (select coalesce(sum(version), 0) from orders)::int as versions,
           (select count(*) from payment_attempts)::int as attempts,
           (select count(*) from payment_attempts where completed_at is not null)::int as completed,
           (select count(*) from refunds)::int as refunds,
           (select coalesce(sum(refunded_amount), 0) from orders)::int as refunded,
           (select count(*) from captures)::int as captures,
           (select count(*) from idempotency_keys where lock_token is not null)::int as held_keys`;
  return { ...row, paymentIntents: env.emulator.paymentIntents().length };
}
