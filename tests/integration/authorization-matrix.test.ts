import { appRouter, procedurePaths } from '@chargeonce/api';
import {
  issueToken,
  OPERATOR_SCOPES,
  revokeToken,
  SCOPES,
  type Scope,
  setOperatorScopes,
} from '@chargeonce/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Every procedure of the router × every kind of caller, over HTTP, with the answer each must get.
 * A procedure added to the router without a row here fails the first test. Every denial is
 * checked to have changed nothing (row counts and PaymentIntents).
 */
let env: InProcess;
beforeAll(async () => {
  // Many deliberate 401s come from this one address: the per-source limit is not under test here.
  env = await startInProcess({ CHARGEONCE_AUTH_FAILURES_PER_MINUTE: '100000' });
});
afterAll(async () => {
  await env?.stop();
});

const CALLERS = [
  'anonymous',
  'malformed header',
  'unknown token',
  'revoked token',
  'expired token',
  'owner',
  'owner by session cookie',
  'session cookie without CSRF header',
  'other user',
  'operator',
  'operator by session cookie',
  'service with the scope',
  'service without it',
] as const;
type Caller = (typeof CALLERS)[number];
type Answer = 'ok' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND';

interface Target {
  orderId: string;
  ownerId: string;
  /** The order's latest attempt (set once it was paid or authorized). */
  attemptId: string | undefined;
}
interface Row {
  type: 'query' | 'mutation';
  /** Absent: any live token may call it (a service "with the scope" then holds none). */
  scope?: Scope;
  /** The input a caller of this kind sends (services name the customer where the call needs it). */
  input(target: Target, caller: Caller): object | undefined;
  /** What each kind of caller gets; the unauthenticated ones are the same for every row. */
  answers: Partial<Record<Caller, Answer>>;
  /** The target order is paid first (what a refund needs). */
  paid?: true;
  /** The target order captures later and is authorized first (what a capture or void needs). */
  authorized?: true;
}

const asService = (caller: Caller) => caller.startsWith('service');
/**
 * A call on the owner's order: the owner and entitled services may, another user does not see it.
 * An operator is another user to the orders procedures: the operator scopes open no customer's order.
 */
const ON_THE_OWNERS_ORDER: Row['answers'] = {
  owner: 'ok',
  'owner by session cookie': 'ok',
  'session cookie without CSRF header': 'FORBIDDEN',
  'other user': 'NOT_FOUND',
  operator: 'NOT_FOUND',
  'operator by session cookie': 'NOT_FOUND',
  'service with the scope': 'ok',
  'service without it': 'FORBIDDEN',
};
/** A call only a service with the scope may make: every customer is refused before the order is read. */
const MERCHANT_ONLY: Row['answers'] = {
  owner: 'FORBIDDEN',
  'owner by session cookie': 'FORBIDDEN',
  'session cookie without CSRF header': 'FORBIDDEN',
  'other user': 'FORBIDDEN',
  operator: 'FORBIDDEN',
  'operator by session cookie': 'FORBIDDEN',
  'service with the scope': 'ok',
  'service without it': 'FORBIDDEN',
};
/** An operator's call: users granted the operator scopes and services holding the scope; no customer. */
const OPERATORS_ONLY: Row['answers'] = {
  ...MERCHANT_ONLY,
  operator: 'ok',
  'operator by session cookie': 'ok',
};
const MATRIX: Record<string, Row> = {
  'orders.create': {
    type: 'mutation',
    scope: 'orders:write',
    input: (t, c) => ({
      amount: 1200,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      ...(asService(c) ? { userId: t.ownerId } : {}),
    }),
    // Another user creates an order of their own: allowed, and not about the owner's orders.
    answers: {
      owner: 'ok',
      'owner by session cookie': 'ok',
      'session cookie without CSRF header': 'FORBIDDEN',
      'other user': 'ok',
      operator: 'ok',
      'operator by session cookie': 'ok',
      'service with the scope': 'ok',
      'service without it': 'FORBIDDEN',
    },
  },
  'orders.get': {
    type: 'query',
    scope: 'orders:read',
    input: (t) => ({ orderId: t.orderId }),
    answers: {
      owner: 'ok',
      'owner by session cookie': 'ok',
      'session cookie without CSRF header': 'ok',
      'other user': 'NOT_FOUND',
      operator: 'NOT_FOUND',
      'operator by session cookie': 'NOT_FOUND',
      'service with the scope': 'ok',
      'service without it': 'FORBIDDEN',
    },
  },
  'orders.list': {
    type: 'query',
    scope: 'orders:read',
    input: (t, c) => (asService(c) ? { userId: t.ownerId } : {}),
    // Another user lists only their own (none of the owner's: checked below).
    answers: {
      owner: 'ok',
      'owner by session cookie': 'ok',
      'session cookie without CSRF header': 'ok',
      'other user': 'ok',
      operator: 'ok',
      'operator by session cookie': 'ok',
      'service with the scope': 'ok',
      'service without it': 'FORBIDDEN',
    },
  },
  'orders.pay': {
    type: 'mutation',
    scope: 'orders:pay',
    input: (t) => ({ orderId: t.orderId }),
    answers: ON_THE_OWNERS_ORDER,
  },
  // Customers refund their own orders by default (CHARGEONCE_CUSTOMER_REFUNDS; off:
  // refunds-by-services.test.ts).
  'orders.refund': {
    type: 'mutation',
    scope: 'orders:refund',
    input: (t) => ({ orderId: t.orderId }),
    answers: ON_THE_OWNERS_ORDER,
    paid: true,
  },
  'orders.cancel': {
    type: 'mutation',
    scope: 'orders:write',
    input: (t) => ({ orderId: t.orderId }),
    answers: ON_THE_OWNERS_ORDER,
  },
  // The merchant captures or voids (when the goods ship); no customer token carries orders:capture.
  'orders.capture': {
    type: 'mutation',
    scope: 'orders:capture',
    input: (t) => ({ orderId: t.orderId }),
    answers: MERCHANT_ONLY,
    authorized: true,
  },
  'orders.void': {
    type: 'mutation',
    scope: 'orders:capture',
    input: (t) => ({ orderId: t.orderId }),
    answers: MERCHANT_ONLY,
    authorized: true,
  },
  // The operator page's reads and actions (packages/api router/operations.ts).
  'operations.overview': {
    type: 'query',
    scope: 'operations:read',
    input: () => ({}),
    answers: OPERATORS_ONLY,
  },
  'operations.recover': {
    type: 'mutation',
    scope: 'operations:write',
    input: (t) => ({ kind: 'attempt', id: t.attemptId }),
    answers: OPERATORS_ONLY,
    paid: true,
  },
  'operations.reconcile': {
    type: 'mutation',
    scope: 'operations:write',
    input: () => ({ windowMs: 60_000 }),
    answers: OPERATORS_ONLY,
  },
  // Who the token speaks for: any live token may ask (the web client asks for the operator link).
  'principal.whoami': {
    type: 'query',
    input: () => undefined,
    answers: {
      owner: 'ok',
      'owner by session cookie': 'ok',
      'session cookie without CSRF header': 'ok',
      'other user': 'ok',
      operator: 'ok',
      'operator by session cookie': 'ok',
      'service with the scope': 'ok',
      'service without it': 'ok',
    },
  },
};

const UNAUTHENTICATED: Caller[] = [
  'anonymous',
  'malformed header',
  'unknown token',
  'revoked token',
  'expired token',
];

/** The web client's session for `token`: its cookies, as a browser would send them. */
async function webSession(token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${env.server.url}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const pairs = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const csrf = pairs.find((p) => p.startsWith('co_csrf='))!.split('=')[1]!;
  return { cookie: pairs.join('; '), csrf };
}

/** The credential headers each kind of caller sends for the owner of `target`. */
async function headersFor(
  caller: Caller,
  row: Row,
  owner: { token: string },
): Promise<Record<string, string>> {
  if (caller === 'operator by session cookie') {
    const session = await webSession((await newOperator()).token);
    return { cookie: session.cookie, 'x-csrf-token': session.csrf };
  }
  if (caller === 'owner by session cookie' || caller === 'session cookie without CSRF header') {
    const session = await webSession(owner.token);
    return caller === 'owner by session cookie'
      ? { cookie: session.cookie, 'x-csrf-token': session.csrf }
      : { cookie: session.cookie };
  }
  const authorization = await headerFor(caller, row, owner);
  return authorization ? { authorization } : {};
}

/** A user the admin granted every operator scope (`pnpm admin -- users grant-operator`). */
async function newOperator() {
  const user = await env.newUser('operator');
  await setOperatorScopes(env.db.db, user.id, OPERATOR_SCOPES);
  return user;
}

/** The Authorization header each kind of caller sends for the owner of `target`. */
async function headerFor(caller: Caller, row: Row, owner: { token: string }): Promise<string | undefined> {
  switch (caller) {
    case 'anonymous':
      return undefined;
    case 'malformed header':
      return `Basic ${owner.token}`;
    case 'unknown token':
      return 'Bearer co_no_such_token';
    case 'revoked token': {
      const user = await env.newUser('revoked');
      const issued = await issueToken(env.db.db, { owner: { kind: 'user', userId: user.id } });
      await revokeToken(env.db.db, issued.id);
      return `Bearer ${issued.token}`;
    }
    case 'expired token': {
      const user = await env.newUser('expired');
      const issued = await issueToken(env.db.db, {
        owner: { kind: 'user', userId: user.id },
        expiresAt: new Date(Date.now() - 1_000),
      });
      return `Bearer ${issued.token}`;
    }
    case 'owner':
    case 'owner by session cookie':
    case 'session cookie without CSRF header':
      return `Bearer ${owner.token}`;
    case 'other user':
      return `Bearer ${(await env.newUser('other')).token}`;
    case 'operator':
    case 'operator by session cookie':
      return `Bearer ${(await newOperator()).token}`;
    case 'service with the scope':
      return `Bearer ${(await env.newService(row.scope ? [row.scope] : [])).token}`;
    case 'service without it':
      return `Bearer ${(await env.newService(SCOPES.filter((s) => s !== row.scope))).token}`;
  }
}

async function call(path: string, row: Row, input: object | undefined, credentials: Record<string, string>) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...credentials };
  const url = `${env.server.url}/trpc/${path}`;
  const res =
    row.type === 'query'
      ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input ?? {}))}`, { headers })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
  const body = (await res.json()) as { result?: { data: unknown }; error?: { data?: { code?: string } } };
  // The CSRF check answers before tRPC, with a plain 403.
  const code = body.error
    ? (body.error.data?.code ?? (res.status === 403 ? 'FORBIDDEN' : `HTTP ${res.status}`))
    : 'ok';
  return { status: res.status, answer: code, body };
}

const counts = async () => ({
  ...(
    await env.db.sql`select (select count(*) from orders)::int as orders,
                              (select count(*) from payment_attempts)::int as attempts,
                              (select count(*) from refunds)::int as refunds,
                              (select count(*) from captures)::int as captures,
                              (select count(*) from operator_actions)::int as operator_actions,
                              (select count(*) from reconciliation_runs)::int as reconciliation_runs`
  )[0],
  paymentIntents: env.emulator.paymentIntents().length,
});

describe('the authorization matrix', () => {
  it('has a row for every procedure of the router, and nothing else', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(procedurePaths(appRouter).sort());
  });

  const cells = Object.entries(MATRIX).flatMap(([path, row]) =>
    CALLERS.map(
      (caller) =>
        [path, caller, UNAUTHENTICATED.includes(caller) ? 'UNAUTHORIZED' : row.answers[caller]] as const,
    ),
  );
  it.each(cells)('%s by %s: %s', async (path, caller, expected) => {
    const row = MATRIX[path]!;
    const owner = await env.newUser('owner');
    const order = await owner.client.orders.create.mutate({
      amount: 900,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      ...(row.authorized ? { captureMethod: 'manual' as const } : {}),
    });
    if (row.paid || row.authorized) await owner.client.orders.pay.mutate({ orderId: order.id });
    const { order: start, attempts } = await owner.client.orders.get.query({ orderId: order.id });
    const credentials = await headersFor(caller, row, owner);
    const before = await counts();
    const result = await call(
      path,
      row,
      row.input({ orderId: order.id, ownerId: owner.id, attemptId: attempts[0]?.id }, caller),
      credentials,
    );
    expect(result.answer, JSON.stringify(result.body)).toBe(expected);
    if (expected === 'ok') {
      expect(result.status).toBe(200);
      if (path === 'orders.list' && (caller === 'other user' || caller.startsWith('operator'))) {
        expect(result.body.result?.data).toMatchObject({ items: [] });
      }
    } else {
      expect(await counts()).toEqual(before);
      const owned = await owner.client.orders.get.query({ orderId: order.id });
      expect(owned.order).toMatchObject({
        status: start.status,
        version: start.version,
        refundedAmount: start.refundedAmount,
      });
    }
  });
});
