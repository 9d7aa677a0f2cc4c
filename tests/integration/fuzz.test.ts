import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseFor,
  deniedAs,
  type Fixture,
  FUZZ_CEILING_MS,
  fuzzParams,
  INPUTS,
  KIND,
  LONG,
  makeFixture,
  mustSucceed,
  PROCEDURES,
  principal,
  resolve,
  toJson,
} from '../support/fuzz';
import { checkResult, httpFuzzer, request, type TrpcError, transport } from '../support/fuzz-http';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Property-based fuzzing of the HTTP API (tRPC over fastify, real PostgreSQL, the emulator): every
 * orders procedure's input, sent as tRPC clients send it and every other way (wrong method, content
 * type, malformed JSON, odd query strings, batches past the limit, unknown paths, bodies past
 * bodyLimit). Whatever arrives: never a 5xx; no stack trace, file path or SQL text in the answer; a
 * refusal is brief, echoes no long input and changes nothing (orders, attempts, PaymentIntents); a
 * valid call by an entitled caller succeeds. (The inputs and checks: ../support/fuzz.ts; how requests
 * are sent: ../support/fuzz-http.ts; createCaller-level fuzzing: packages/api/test.)
 */
const RUNS_PER_PROCEDURE = 1_500;
/** The server's limits (apps/server app.ts): calls per batch and bytes per body. */
const MAX_BATCH_SIZE = 20;
const BODY_LIMIT = 1024 * 1024;

let env: InProcess;
let fixture: Fixture;
let authHeader: ReturnType<typeof httpFuzzer>['authHeader'];
let exchange: ReturnType<typeof httpFuzzer>['exchange'];
beforeAll(async () => {
  // Thousands of deliberate 401s come from this one address: the per-source limit is not under test.
  env = await startInProcess({ CHARGEONCE_AUTH_FAILURES_PER_MINUTE: '1000000' });
  fixture = await makeFixture(env);
  ({ authHeader, exchange } = httpFuzzer(env, fixture));
});
afterAll(async () => {
  await env?.stop();
});

describe('fuzzing every procedure over HTTP', () => {
  for (const procedure of PROCEDURES) {
    test.prop([caseFor(procedure), transport], fuzzParams(RUNS_PER_PROCEDURE))(
      `orders.${procedure}: never a 5xx or internals; a refusal is brief and changes nothing`,
      async (c, t) => {
        const input = await resolve(env, fixture, c.input);
        const req = request(procedure, t, input, authHeader(c.principal));
        const res = await exchange(req, input);
        // 431/414: the request line or headers are past Node's limits; nothing reached the API.
        if (t.kind !== 'canonical' || res.status === 431 || res.status === 414) return;
        const denied = deniedAs(procedure, c.principal);
        if (denied) {
          expect(res.status, res.text).toBe(denied === 'UNAUTHORIZED' ? 401 : 403);
          return;
        }
        if (res.status >= 400) {
          const error = res.body as TrpcError;
          expect(error.error.data?.httpStatus).toBe(res.status);
          expect(mustSucceed(procedure, c), `a valid call was refused: ${res.text.slice(0, 300)}`).toBe(
            false,
          );
          return;
        }
        expect(res.status).toBe(200);
        checkResult(
          procedure,
          c,
          input,
          (res.body as { result: { data: Record<string, unknown> } }).result.data,
          fixture,
        );
      },
      FUZZ_CEILING_MS,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Batches, paths, bodies

const BATCH_NAMES = [
  'orders.get',
  'orders.list',
  'orders.create',
  'orders.pay',
  'orders.nope',
  '',
  '__proto__',
  'constructor',
  'orders.__proto__',
  'orders.constructor',
  'orders.create.call',
  'toString',
];
/** Mostly calls of the batch's kind (tRPC refuses to mix queries and mutations); sometimes not. */
const batchEntry = (kind: 'query' | 'mutation') =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .constantFrom(...PROCEDURES.filter((p) => KIND[p] === kind))
        .chain((p) => INPUTS[p].map((g) => [`orders.${p}`, g.input] as const)),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...BATCH_NAMES), fc.jsonValue({ maxDepth: 2 })) },
  );
const batch = fc.constantFrom('query' as const, 'mutation' as const).chain((kind) =>
  fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constant(kind === 'query' ? ('GET' as const) : ('POST' as const)) },
      fc.constantFrom('GET' as const, 'POST' as const),
    ),
    entries: fc.oneof(
      { weight: 3, arbitrary: fc.array(batchEntry(kind), { minLength: 1, maxLength: MAX_BATCH_SIZE }) },
      fc.array(batchEntry(kind), { minLength: MAX_BATCH_SIZE + 1, maxLength: 3 * MAX_BATCH_SIZE }),
    ),
    /** How the inputs are keyed: as tRPC does ("0", "1", ...), as an array, or with holes and extras. */
    keying: fc.constantFrom('object', 'object', 'object', 'array', 'sparse', 'proto'),
    principal,
  }),
);

describe('fuzzing batches, paths and bodies over HTTP', () => {
  test.prop([batch], fuzzParams(400))(
    `a batch of any calls is answered below 500; more than ${MAX_BATCH_SIZE} is one 400 and runs none`,
    async ({ method, entries, keying, principal: p }) => {
      const inputs = (await resolve(
        env,
        fixture,
        entries.map(([, input]) => input),
      )) as unknown[];
      const keyed =
        keying === 'array'
          ? inputs
          : Object.fromEntries(
              inputs.flatMap((input, i) =>
                keying === 'sparse' && i % 2 === 1
                  ? []
                  : [[keying === 'proto' && i === 0 ? '__proto__' : String(i), input]],
              ),
            );
      const json = toJson(keyed) ?? '{}';
      const path = `/trpc/${entries.map(([name]) => name).join(',')}?batch=1`;
      const res = await exchange(
        method === 'GET'
          ? {
              method,
              url: `${path}&input=${encodeURIComponent(json)}`,
              headers: authHeader(p),
              calls: entries.length,
            }
          : {
              method,
              url: path,
              headers: { ...authHeader(p), 'content-type': 'application/json' },
              body: json,
              calls: entries.length,
            },
        keyed,
      );
      if (entries.length > MAX_BATCH_SIZE && res.status !== 431 && res.status !== 414) {
        expect(res.status, res.text.slice(0, 300)).toBe(400);
        expect(res.body).toMatchObject({ error: { data: { code: 'BAD_REQUEST' } } });
      }
    },
    FUZZ_CEILING_MS,
  );

  const oddPath = fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'orders.__proto__',
      'orders.constructor',
      'orders.create.call',
      'orders.hasOwnProperty',
      '_def',
      'orders._def',
      'orders.createCaller',
      'createCaller',
      'orders',
      'orders.',
      '.orders.get',
      'orders..get',
      'ORDERS.GET',
      'orders.get%00',
      '%',
      '%zz',
      '..%2f..%2fetc%2fpasswd',
      'orders/get',
      'orders.get/x',
      `orders.${'x'.repeat(4_000)}`,
      `${'orders.get,'.repeat(300)}orders.get`,
    ),
    fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: fc.constantFrom(...'orders.getlistpaycreate,_/%'), maxLength: 40 }),
  );
  test.prop(
    [oddPath, fc.constantFrom('GET' as const, 'POST' as const), fc.boolean(), principal],
    fuzzParams(300),
  )(
    'any path under /trpc is answered below 500, briefly, changing nothing',
    async (path, method, batched, p) => {
      await exchange({
        method,
        url: `/trpc/${path}${batched ? '?batch=1' : ''}`,
        headers: { ...authHeader(p), 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
        calls: 1,
      });
    },
    FUZZ_CEILING_MS,
  );

  const body = fc.record({
    procedure: fc.constantFrom(...PROCEDURES),
    overBy: fc.oneof(fc.integer({ min: 1, max: 2 * BODY_LIMIT }), fc.integer({ min: -2_000, max: -200 })),
    batched: fc.boolean(),
    principal,
  });
  test.prop([body], fuzzParams(40))(
    'a body past bodyLimit is a brief 413 that echoes nothing; one just under it a brief 4xx',
    async ({ procedure, overBy, batched, principal: p }) => {
      const valid = {
        amount: 60_000,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
        orderId: fixture.ids.$A_ORDER,
      };
      const skeleton = JSON.stringify(batched ? { 0: { ...valid, pad: '' } } : { ...valid, pad: '' });
      const pad = LONG.repeat(Math.ceil((BODY_LIMIT + overBy) / LONG.length)).slice(
        0,
        BODY_LIMIT + overBy - skeleton.length,
      );
      const json = skeleton.replace('"pad":""', `"pad":"${pad}"`);
      const res = await exchange(
        {
          method: 'POST',
          url: `/trpc/orders.${procedure}${batched ? '?batch=1' : ''}`,
          headers: { ...authHeader(p), 'content-type': 'application/json' },
          body: json,
          calls: 1,
        },
        { pad },
      );
      if (overBy > 0) expect(res.status, res.text).toBe(413);
      else expect(res.status).toBeGreaterThanOrEqual(400);
    },
    FUZZ_CEILING_MS,
  );
});

/**
 * Found by the path fuzzing above: a URL that no route takes (a path segment past maxParamLength,
 * more segments under /trpc) got fastify's default answer, which quotes the whole URL (up to
 * Node's 16 KB header limit). The server now answers such URLs with a fixed message.
 */
it('a long URL no route takes is not echoed back', async () => {
  for (const url of [`/trpc/${'x'.repeat(5_001)}`, `/trpc/a/b?${'q'.repeat(300)}`, `/${'y'.repeat(9_000)}`]) {
    await exchange({ method: 'GET', url, headers: {}, calls: 1 });
    await exchange({ method: 'POST', url, headers: {}, calls: 1 });
  }
});

it('a valid call still works after the fuzzing', async () => {
  const user = await env.newUser('after');
  const order = await user.client.orders.create.mutate({
    amount: 4_200,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  expect((await user.client.orders.get.query({ orderId: order.id })).order.status).toBe('pending');
  expect((await user.client.orders.list.query({ limit: 1 })).items.map((o) => o.id)).toEqual([order.id]);
  expect(await user.client.orders.pay.mutate({ orderId: order.id })).toMatchObject({ outcome: 'charged' });
  expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
});
