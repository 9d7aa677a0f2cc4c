import { setOperatorScopes } from '@chargeonce/db';
import { fc, test } from '@fast-check/vitest';
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { OTHER_PROCEDURES } from './fuzz-other-procedures';
import {
  awaitInterruptedRuns,
  fuzzCeilingMs,
  fuzzParams,
  ODD_STRINGS,
  ODD_UUIDS,
  protoObject,
} from './fuzz-support';
import { useApiEnv, visaOrder } from './support';

/**
 * Property-based fuzzing of the operators' procedures and `principal.whoami` through createCaller
 * on real PostgreSQL and the emulator, by every kind of caller: each call resolves or throws a
 * TRPCError that is not INTERNAL_SERVER_ERROR; authentication and scope come first; a refusal
 * records no operator action and moves no row; a valid call by an entitled caller succeeds.
 * (The orders procedures: ./fuzz.test.ts.)
 */
const env = useApiEnv();
const CEILING_MS = fuzzCeilingMs(60_000);
/** The run a time limit cuts off still ends before the next property starts comparing rows. */
const tracked = awaitInterruptedRuns();

type Caller = 'operator' | 'reader' | 'customer' | 'ops-service' | 'service-none' | 'anonymous' | 'unknown';
const CALLERS: Caller[] = [
  'operator',
  'reader',
  'customer',
  'ops-service',
  'service-none',
  'anonymous',
  'unknown',
];
const READS: Caller[] = ['operator', 'reader', 'ops-service'];
const WRITES: Caller[] = ['operator', 'ops-service'];
const tokens: Partial<Record<Caller, string | null>> = { anonymous: null, unknown: 'co_unknown' };
/** Rows the inputs name by placeholder: a stuck attempt, a settled one, and nothing at all. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  for (const [name, scopes] of [
    ['operator', ['operations:read', 'operations:write']],
    ['reader', ['operations:read']],
    ['customer', []],
  ] as const) {
    const user = await env.newUser(name);
    if (scopes.length) await setOperatorScopes(env.db.db, user.id, scopes);
    tokens[name] = user.token;
  }
  tokens['ops-service'] = (await env.newService(['operations:read', 'operations:write'])).token;
  tokens['service-none'] = (await env.newService([])).token;
  const customer = env.caller(tokens.customer ?? null).api;
  const paid = await customer.orders.create(visaOrder);
  await customer.orders.pay({ orderId: paid.id });
  ids.$SETTLED = (await customer.orders.get({ orderId: paid.id })).attempts[0]!.id;
  const stuck = await customer.orders.create(visaOrder);
  env.emulator.setFaults([{ fault: 'error_before', operation: 'payment_intents.create' }]);
  await customer.orders.pay({ orderId: stuck.id }).finally(() => env.emulator.clearFaults());
  ids.$STUCK = (await customer.orders.get({ orderId: stuck.id })).attempts[0]!.id;
});

const weird = fc.oneof(
  fc.constantFrom(...ODD_STRINGS, ...ODD_UUIDS, 0, -1, 1e308, Number.NaN, null, true, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  protoObject,
);
/** A valid value (tagged true) four times in five, else anything (tagged false). */
const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => [v, true] as const) },
    { weight: 1, arbitrary: weird.map((v) => [v, false] as const) },
  );
const ABSENT = Symbol('absent');
const optional = (a: fc.Arbitrary<unknown>) => fc.oneof(fc.constant(ABSENT), a);
const record = (fields: Record<string, fc.Arbitrary<readonly [unknown, boolean]>>) =>
  fc.record(fields).map((r) => ({
    input: Object.fromEntries(Object.entries(r).flatMap(([k, [v]]) => (v === ABSENT ? [] : [[k, v]]))),
    valid: Object.values(r).every(([, ok]) => ok),
  }));
const key = field(optional(fc.uuid()));
const INPUTS: Record<(typeof OTHER_PROCEDURES)[number], fc.Arbitrary<{ input: unknown; valid: boolean }>> = {
  'operations.overview': record({ limit: field(optional(fc.integer({ min: 1, max: 200 }))) }),
  'operations.recover': record({
    kind: field(fc.constantFrom('attempt', 'refund', 'capture')),
    id: field(fc.oneof(fc.constantFrom('$STUCK', '$SETTLED'), fc.uuid())),
    idempotencyKey: key,
  }),
  'operations.reconcile': record({
    // Valid up to 7 days; a longer window (up to the old 31-day bound) is a refusal.
    windowMs: fc.oneof(
      { weight: 4, arbitrary: field(optional(fc.integer({ min: 60_000, max: 7 * 24 * 60 * 60_000 }))) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 7 * 24 * 60 * 60_000 + 1, max: 31 * 24 * 60 * 60_000 })
          .map((v) => [v, false] as const),
      },
    ),
    idempotencyKey: key,
  }),
  'principal.whoami': fc.constant({ input: undefined, valid: true }),
};

const snapshot = async () =>
  (
    await env.db.sql`select (select count(*) from operator_actions)::int as actions,
      (select count(*) from reconciliation_runs)::int as runs,
      (select count(*) from payment_attempts where completed_at is null)::int as open,
      (select count(*) from idempotency_keys where lock_token is not null)::int as held`
  )[0];

/** Whether a valid input by this caller must succeed (an id of the wrong kind is NOT_FOUND). */
function mustSucceed(procedure: string, caller: Caller, input: unknown): boolean {
  if (procedure === 'principal.whoami') return caller !== 'anonymous' && caller !== 'unknown';
  if (procedure === 'operations.overview') return READS.includes(caller);
  if (!WRITES.includes(caller)) return false;
  if (procedure === 'operations.reconcile') return true;
  const { kind, id } = input as { kind: string; id: string };
  return kind === 'attempt' && (id === ids.$STUCK || id === ids.$SETTLED);
}

function deniedAs(procedure: string, caller: Caller): string | null {
  if (caller === 'anonymous' || caller === 'unknown') return 'UNAUTHORIZED';
  if (procedure === 'principal.whoami') return null;
  return (procedure === 'operations.overview' ? READS : WRITES).includes(caller) ? null : 'FORBIDDEN';
}

const resolve = (input: unknown) =>
  input &&
  typeof input === 'object' &&
  !Array.isArray(input) &&
  Object.getPrototypeOf(input) === Object.prototype
    ? Object.fromEntries(
        Object.entries(input).map(([k, v]) => [
          k,
          typeof v === 'string' && Object.hasOwn(ids, v) ? ids[v] : v,
        ]),
      )
    : input;

describe('fuzzing the operators’ procedures through createCaller', () => {
  for (const procedure of OTHER_PROCEDURES) {
    const cases = fc.tuple(
      fc.constantFrom(...CALLERS),
      fc.oneof(
        { weight: 5, arbitrary: INPUTS[procedure] },
        { weight: 1, arbitrary: weird.map((input) => ({ input, valid: false })) },
      ),
    );
    test.prop([cases], {
      ...fuzzParams(procedure === 'operations.reconcile' ? 100 : 300),
      interruptAfterTimeLimit: CEILING_MS - 10_000,
    })(
      `${procedure}: its output or a non-internal TRPCError; a refusal records and moves nothing`,
      tracked(async ([caller, generated]) => {
        const input = resolve(generated.input);
        const [group, name] = procedure.split('.') as [string, string];
        const api = (
          env.caller(tokens[caller] ?? null).api as unknown as Record<
            string,
            Record<string, (i: unknown) => Promise<unknown>>
          >
        )[group]!;
        const before = await snapshot();
        try {
          await api[name]!(input);
        } catch (err) {
          expect(err).toBeInstanceOf(TRPCError);
          const error = err as TRPCError;
          expect(error.code, String(error.cause?.stack ?? error.cause)).not.toBe('INTERNAL_SERVER_ERROR');
          const denied = deniedAs(procedure, caller);
          if (denied) expect(error.code).toBe(denied);
          const valid = generated.valid && mustSucceed(procedure, caller, input);
          expect(valid, `a valid call was refused: ${error.code} ${error.message}`).toBe(false);
          expect(await snapshot()).toEqual(before);
          return;
        }
        expect(deniedAs(procedure, caller)).toBe(null);
        expect((await snapshot())?.held).toBe(0);
      }),
      CEILING_MS,
    );
  }

  it('the snapshot sees an action (the no-change check can fail)', async () => {
    const before = await snapshot();
    await env.caller(tokens.operator ?? null).api.operations.recover({ kind: 'attempt', id: ids.$SETTLED! });
    expect(await snapshot()).not.toEqual(before);
  });
});
