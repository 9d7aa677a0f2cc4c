import { fc } from '@fast-check/vitest';
import { expect } from 'vitest';
import {
  type Case,
  EXECUTED,
  expectSafeResponse,
  type Fixture,
  GARBAGE_AUTH,
  KIND,
  named,
  type Procedure,
  RawNumber,
  snapshot,
  toJson,
} from './fuzz';
import type { InProcess } from './in-process';

/**
 * How the HTTP fuzzing sends what it generates (tests/support/fuzz.ts): a request as tRPC clients
 * send it and every other way (wrong method, content type, malformed JSON, odd query strings), the
 * exchange that checks every answer is safe and a refusal changed nothing, and the check of a
 * successful answer.
 */

export interface Sent {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Calls the request makes (a batch's size), for the size bound on its answer. */
  calls: number;
}

export interface TrpcError {
  error: { data?: { code?: string; httpStatus?: number; domainCode?: string | null } };
}
const isError = (item: unknown): item is TrpcError =>
  item !== null && typeof item === 'object' && 'error' in item;
/** A refusal: every call answered is an error, none about a payment the provider was asked for. */
function refusedAll(status: number, body: unknown): boolean {
  if (status < 400) return false;
  const items = Array.isArray(body) ? body : [body];
  return items.every((item) => !isError(item) || !EXECUTED.includes(item.error.data?.domainCode ?? ''));
}
const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The fixture's callers over HTTP to `env`'s server: their headers, and requests sent and checked. */
export function httpFuzzer(env: InProcess, fixture: Fixture) {
  let garbageIndex = 0;
  function authHeader(p: Case['principal']): Record<string, string> {
    const value =
      p === 'garbage' ? (GARBAGE_AUTH[garbageIndex++ % GARBAGE_AUTH.length] as string) : fixture.headers[p];
    return value === undefined ? {} : { authorization: value };
  }

  async function send(req: Sent): Promise<{ status: number; text: string }> {
    const res = await fetch(`${env.server.url}${req.url}`, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    return { status: res.status, text: await res.text() };
  }

  /** Sends, checks the answer is safe, and that a refusal changed nothing. Returns the answer. */
  async function exchange(
    req: Sent,
    input?: unknown,
  ): Promise<{ status: number; text: string; body: unknown }> {
    const before = await snapshot(env);
    const res = await send(req);
    expectSafeResponse(res, { url: req.url, body: req.body, input, calls: req.calls });
    const body = parse(res.text);
    if (refusedAll(res.status, body))
      expect(await snapshot(env), `${res.status} ${res.text.slice(0, 300)}`).toEqual(before);
    return { ...res, body };
  }

  return { authHeader, exchange };
}

// ---------------------------------------------------------------------------------------------
// One call per request, sent every way

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json, text/html',
  'application/jsonx',
  'application/vnd.api+json',
  '',
];
/** JSON that is not, or is JSON with a twist, built from the input's own text. */
const MALFORMED: Array<(json: string) => string> = [
  (j) => j.slice(0, -1),
  (j) => `${j}garbage`,
  (j) => `\ufeff${j}`,
  (j) => j.replaceAll('"', "'"),
  (j) => `${j},${j}`,
  () => 'NaN',
  () => '{"a":1,}',
  () => `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
  () => '{"a":'.repeat(5_000),
  () => '{"amount":1,"amount":60000,"currency":"usd","paymentMethodId":"pm_card_visa"}',
  () => '{"__proto__":{"amount":60000,"currency":"usd","paymentMethodId":"pm_card_visa"}}',
  () => '\u0000',
  () => '',
];
const ODD_QUERIES = [
  'input=%zz',
  'input=1&input=2',
  'batch=1',
  'batch=true',
  'batch=0',
  'input=',
  'input[]=x',
  '%00=1',
  'input={}&batch=1',
];

/** `Idempotency-Key` header values: fresh valid keys, and values no key may be (all sendable by fetch). */
const idempotencyHeader = fc.oneof(
  fc.uuid(),
  fc.constantFrom('', ' ', "'; drop table idempotency_keys; --", '$1', 'é', 'x'.repeat(256)),
);

export type Transport =
  | { kind: 'canonical' }
  | { kind: 'idempotency-header'; key: string }
  | { kind: 'wrong-method' }
  | { kind: 'content-type'; contentType: string }
  | { kind: 'malformed'; index: number }
  | { kind: 'query-string'; query: string; method: 'GET' | 'POST' };
export const transport: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'canonical' as const }) },
  fc.constant({ kind: 'wrong-method' as const }),
  idempotencyHeader.map((key) => ({ kind: 'idempotency-header' as const, key })),
  fc.constantFrom(...CONTENT_TYPES).map((contentType) => ({ kind: 'content-type' as const, contentType })),
  fc.nat({ max: MALFORMED.length - 1 }).map((index) => ({ kind: 'malformed' as const, index })),
  fc
    .tuple(fc.constantFrom(...ODD_QUERIES), fc.constantFrom('GET' as const, 'POST' as const))
    .map(([query, method]) => ({ kind: 'query-string' as const, query, method })),
);

/** The request that sends `input` to a procedure the way `t` says. */
export function request(
  procedure: Procedure,
  t: Transport,
  input: unknown,
  auth: Record<string, string>,
): Sent {
  const path = `/trpc/orders.${procedure}`;
  const json = toJson(input);
  const asGet = (text: string | undefined): Sent => ({
    method: 'GET',
    url: text === undefined ? path : `${path}?input=${encodeURIComponent(text)}`,
    headers: auth,
    calls: 1,
  });
  const asPost = (text: string | undefined, contentType = 'application/json'): Sent => ({
    method: 'POST',
    url: path,
    headers: { ...auth, ...(contentType === '' ? {} : { 'content-type': contentType }) },
    body: text ?? '',
    calls: 1,
  });
  const right = KIND[procedure] === 'query' ? asGet : asPost;
  const wrong = KIND[procedure] === 'query' ? asPost : asGet;
  switch (t.kind) {
    case 'canonical':
      return right(json);
    case 'idempotency-header': {
      const sent = right(json);
      return { ...sent, headers: { ...sent.headers, 'idempotency-key': t.key } };
    }
    case 'wrong-method':
      return wrong(json);
    case 'content-type':
      return KIND[procedure] === 'query'
        ? { ...asGet(json), headers: { ...auth, 'content-type': t.contentType } }
        : asPost(json, t.contentType);
    case 'malformed': {
      const text = (MALFORMED[t.index] as (j: string) => string)(json ?? '{}');
      return right(text);
    }
    case 'query-string':
      return { ...(t.method === 'GET' ? asGet(undefined) : asPost(json)), url: `${path}?${t.query}` };
  }
}

const lower = (v: unknown) => String(v).toLowerCase();

/** A successful answer has the procedure's shape and is about a customer the caller may see. */
export function checkResult(
  procedure: Procedure,
  c: Case,
  input: unknown,
  data: Record<string, unknown>,
  fixture: Fixture,
): void {
  const self = c.principal === 'A' || c.principal === 'B' ? fixture.ids[`$${c.principal}`] : undefined;
  const namedUser = named(input, 'userId');
  const owner = self ?? (typeof namedUser === 'string' ? namedUser : undefined);
  const order = (procedure === 'list' ? undefined : procedure === 'create' ? data : data.order) as
    | Record<string, unknown>
    | undefined;
  if (order) {
    expect(order).toMatchObject({
      id: expect.any(String),
      amount: expect.any(Number),
      version: expect.any(Number),
    });
    if (owner !== undefined) expect(order.userId).toBe(owner);
  }
  switch (procedure) {
    case 'create': {
      const i = input as { amount: unknown; currency: string; paymentMethodId: string };
      expect(data).toMatchObject({
        amount: i.amount instanceof RawNumber ? Number(i.amount.text) : i.amount,
        currency: i.currency.toLowerCase(),
        paymentMethodId: i.paymentMethodId,
        status: 'pending',
        version: 1,
      });
      return;
    }
    case 'get':
      expect(order?.id).toBe(lower(named(input, 'orderId')));
      expect(Array.isArray(data.attempts)).toBe(true);
      return;
    case 'list': {
      const items = data.items as Array<{ userId: string }>;
      const limit = named(input, 'limit');
      expect(items.length).toBeLessThanOrEqual(typeof limit === 'number' ? limit : 20);
      for (const item of items) expect(item.userId).toBe(owner);
      return;
    }
    case 'pay':
      expect(order?.id).toBe(lower(named(input, 'orderId')));
      expect(['charged', 'already_paid', 'processing']).toContain(data.outcome);
      if (data.outcome !== 'processing') expect(order?.paymentIntentId).toBe(data.paymentIntentId);
  }
}
