import { isDomainError } from '@chargeonce/payments';
import { fc, test } from '@fast-check/vitest';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { attemptDto, orderDto } from '../src/dto';
import { cancelOutput } from '../src/orders/cancel';
import { payOutput } from '../src/orders/pay.schema';
import { refundOutput } from '../src/orders/refund';
import { procedurePaths } from '../src/procedures';
import { appRouter } from '../src/router';
import { OTHER_PROCEDURES } from './fuzz-other-procedures';
import {
  ABSENT,
  awaitInterruptedRuns,
  BOUNDARY_NUMBERS,
  type Case,
  deniedAs,
  EXECUTED,
  fuzzCeilingMs,
  fuzzInputs,
  fuzzParams,
  isUser,
  mustSucceed,
  named,
  ODD_STRINGS,
  ODD_UUIDS,
  type Placeholders,
  PROCEDURES,
  type PrincipalName,
  type Procedure,
  protoObject,
  resolve,
  SCOPES,
  snapshot,
} from './fuzz-support';
import { type ApiEnv, startApiEnv } from './support';

/**
 * Property-based fuzzing of every orders procedure's input through `createCaller` on real
 * PostgreSQL and the emulator: JSON and non-JSON values, boundary numbers, odd strings, prototype
 * keys, valid-looking inputs with fields broken, by every kind of caller. Every call either
 * resolves with an output of the procedure's shape (and about the right customer) or throws a
 * TRPCError that is not INTERNAL_SERVER_ERROR; a refusal changes nothing; a valid input by an
 * entitled caller is never refused; authentication and scope are decided before the input is read.
 * (The inputs, callers and oracle: ./fuzz-support.ts, shared with the HTTP fuzzing in tests/.)
 *
 * FUZZ_SEED replays a run (fast-check prints the seed and path of a failure); FUZZ_SCALE multiplies
 * the number of runs.
 */
/** A ceiling, not a wait (it grows with FUZZ_SCALE): a property's runs on a loaded 2-core machine. */
const CEILING_MS = fuzzCeilingMs(80_000);
/**
 * Runs per procedure. Capture and void are refused for every fuzzed order (none holds an
 * authorization) on the same input shape as cancel: fewer runs cover them. On a machine too loaded
 * to finish in time, fast-check stops a property's runs before the test's ceiling (a pass on the
 * runs made): a property cut by the test's own timeout would keep calling in the background and
 * change the rows the next property's no-change check compares.
 */
const params = (procedure: Procedure) => ({
  ...fuzzParams(procedure === 'capture' || procedure === 'void' ? 500 : 1_500),
  // Well inside the ceiling: the property's setup and its last run's checks come after the limit.
  interruptAfterTimeLimit: CEILING_MS - 30_000,
});
/** The run a time limit cuts off still ends before the next property starts comparing rows. */
const tracked = awaitInterruptedRuns();

// ---------------------------------------------------------------------------------------------
// Arbitraries: what any transport carries, and what only a caller in process can pass

/** Values only a caller in process can pass (HTTP carries JSON). */
const JS_ONLY = [undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 10n, new Date(0)];
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...BOUNDARY_NUMBERS, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 32),
  fc.constantFrom(...ODD_STRINGS, '\\x00', 'İ', 'true', ' 4200'),
  fc.constantFrom(...JS_ONLY),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(true, false, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  protoObject,
  fc.anything({
    maxDepth: 2,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withTypedArray: true,
    withSparseArray: true,
  }),
);
const { caseFor } = fuzzInputs(weird, [...ODD_UUIDS, '00000000000040008000000000000000']);

// ---------------------------------------------------------------------------------------------
// The environment

it('every procedure of the router has its fuzz arbitrary', () => {
  expect(procedurePaths(appRouter).sort()).toEqual(
    [...PROCEDURES.map((p) => `orders.${p}`), ...OTHER_PROCEDURES].sort(),
  );
});

let env: ApiEnv;
const ids: Record<string, string> = {};
const tokens: Partial<Record<PrincipalName, string | null>> = {};
/** In process an input is passed as it is: only plain objects are rebuilt, arrays and the rest kept. */
const placeholders: Placeholders = {
  ids,
  arrays: false,
  opaque: (value) => Object.getPrototypeOf(value) !== Object.prototype,
};

beforeAll(async () => {
  env = await startApiEnv();
  for (const name of ['A', 'B'] as const) {
    const user = await env.newUser(name);
    ids[`$${name}`] = user.id;
    tokens[name] = user.token;
    const api = env.caller(user.token).api;
    const order = { amount: 5_000, currency: 'usd', paymentMethodId: 'pm_card_visa' };
    ids[`$${name}_ORDER`] = (await api.orders.create(order)).id;
    const paid = await api.orders.create(order);
    await api.orders.pay({ orderId: paid.id });
    ids[`$${name}_PAID`] = paid.id;
  }
  ids.$A_ORDER_UPPER = (ids.$A_ORDER as string).toUpperCase();
  tokens.service = (await env.newService(SCOPES.service)).token;
  tokens['service-read'] = (await env.newService(SCOPES['service-read'])).token;
  tokens['service-none'] = (await env.newService([])).token;
  tokens.anonymous = null;
  tokens.unknown = 'co_unknown_token';
});
afterAll(async () => {
  await env?.stop();
});

const garbageTokens = [
  '',
  ' ',
  '\u0000',
  'Bearer x',
  "'; drop table api_tokens; --",
  'x'.repeat(10_000),
  '\ud800',
];
let garbageIndex = 0;
const tokenOf = (p: PrincipalName) =>
  p === 'garbage' ? (garbageTokens[garbageIndex++ % garbageTokens.length] as string) : (tokens[p] ?? null);

// ---------------------------------------------------------------------------------------------
// The property

const listOutput = z.object({ items: z.array(orderDto), nextCursor: z.string().nullable() });
const getOutput = z.object({ order: orderDto, attempts: z.array(attemptDto) });
const lower = (v: unknown) => String(v).toLowerCase();

/** The output has the procedure's shape and is about the customer the call may see. */
function checkOutput(procedure: Procedure, c: Case, input: unknown, out: unknown): void {
  const self = isUser(c.principal) ? ids[`$${c.principal}`] : undefined;
  const namedUser = named(input, 'userId');
  const owner = self ?? (namedUser === ABSENT ? undefined : namedUser);
  switch (procedure) {
    case 'create': {
      const order = orderDto.parse(out);
      const i = input as { amount: number; currency: string; paymentMethodId: string };
      expect(order).toMatchObject({
        amount: i.amount,
        currency: i.currency.toLowerCase(),
        paymentMethodId: i.paymentMethodId,
        userId: owner,
        status: 'pending',
        version: 1,
        paymentIntentId: null,
      });
      return;
    }
    case 'get': {
      const { order } = getOutput.parse(out);
      expect(order.id).toBe(lower(named(input, 'orderId')));
      if (owner !== undefined) expect(order.userId).toBe(owner);
      return;
    }
    case 'list': {
      const page = listOutput.parse(out);
      const limit = named(input, 'limit');
      expect(page.items.length).toBeLessThanOrEqual(typeof limit === 'number' ? limit : 20);
      for (const order of page.items) expect(order.userId).toBe(owner);
      return;
    }
    case 'pay': {
      const result = payOutput.parse(out);
      expect(result.order.id).toBe(lower(named(input, 'orderId')));
      if (owner !== undefined) expect(result.order.userId).toBe(owner);
      // The fuzzed orders capture automatically and pay with cards that need no challenge.
      expect(result.outcome).not.toBe('requires_action');
      if (result.outcome === 'charged' || result.outcome === 'already_paid') {
        expect(result.order.status).toBe('paid');
        expect(result.order.paymentIntentId).toBe(result.paymentIntentId);
      } else {
        expect(result.outcome).toBe('processing');
      }
      return;
    }
    case 'refund': {
      const result = refundOutput.parse(out);
      expect(result.order.id).toBe(lower(named(input, 'orderId')));
      if (owner !== undefined) expect(result.order.userId).toBe(owner);
      expect(result.refund.orderId).toBe(result.order.id);
      expect(result.order.refundedAmount).toBeGreaterThanOrEqual(result.refund.amount);
      expect(result.order.refundedAmount).toBeLessThanOrEqual(result.order.amount);
      return;
    }
    case 'cancel': {
      const result = cancelOutput.parse(out);
      expect(result.order.id).toBe(lower(named(input, 'orderId')));
      if (owner !== undefined) expect(result.order.userId).toBe(owner);
      expect(result.order.status).toBe('canceled');
      return;
    }
    case 'capture':
    case 'void':
      // No fuzzed order holds an authorization: nothing may be captured or voided.
      throw new Error(`${procedure} succeeded on an order never authorized: ${JSON.stringify(out)}`);
  }
}

async function property(procedure: Procedure, c: Case): Promise<void> {
  const input = await resolve(env, placeholders, c.input);
  const before = await snapshot(env);
  const api = env.caller(tokenOf(c.principal)).api.orders;
  // Authentication, then the scope, are decided before the input is read.
  const denied = deniedAs(procedure, c.principal);
  let out: unknown;
  try {
    out = await (api[procedure] as (i: unknown) => Promise<unknown>)(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TRPCError);
    const error = err as TRPCError;
    expect(error.code, `unexpected error: ${String(error.cause?.stack ?? error.cause)}`).not.toBe(
      'INTERNAL_SERVER_ERROR',
    );
    expect(mustSucceed(procedure, c), `a valid call was refused: ${error.code} ${error.message}`).toBe(false);
    if (denied) expect(error.code).toBe(denied);
    const cause = error.cause;
    const after = await snapshot(env);
    if (!(isDomainError(cause) && EXECUTED.includes(cause.code))) expect(after).toEqual(before);
    // Answered: the call holds no idempotency key any more.
    expect(after.held_keys).toBe(0);
    return;
  }
  expect(denied).toBe(null);
  checkOutput(procedure, c, input, out);
  expect((await snapshot(env)).held_keys).toBe(0);
}

describe('fuzzing every procedure through createCaller', () => {
  for (const procedure of PROCEDURES) {
    test.prop([caseFor(procedure)], params(procedure))(
      `orders.${procedure}: resolves with its output shape or a non-internal TRPCError; a refusal changes nothing`,
      tracked((c: Case) => property(procedure, c)),
      CEILING_MS,
    );
  }

  it('the snapshot sees what a call changes (the no-change check can fail)', async () => {
    const before = await snapshot(env);
    await env
      .caller(tokens.A ?? null)
      .api.orders.create({ amount: 900, currency: 'usd', paymentMethodId: 'pm_x' });
    expect(await snapshot(env)).not.toEqual(before);
  });

  it('a valid call still works after the fuzzing', async () => {
    const api = env.caller(tokens.A ?? null).api.orders;
    const order = await api.create({ amount: 4_200, currency: 'usd', paymentMethodId: 'pm_card_visa' });
    expect((await api.get({ orderId: order.id })).order.status).toBe('pending');
    expect((await api.list({ limit: 1 })).items.map((o) => o.id)).toEqual([order.id]);
    expect(await api.pay({ orderId: order.id })).toMatchObject({ outcome: 'charged' });
  });
});
