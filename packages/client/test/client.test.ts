import { describe, expect, it } from 'vitest';
import {
  createChargeonceClient,
  DEFAULT_RETRY_POLICY,
  type IdempotencyReceipt,
  isRetryable,
  retryDelayMs,
  TRPCClientError,
} from '../src/index';

/**
 * The typed client's keys and retries against a scripted fetch (no server): which failures are
 * retried, with which key, how long it waits. Against real servers, proxies that drop answers and
 * several instances: tests/integration/idempotency-*.test.ts.
 */
type Step = 'network' | 'hang' | { status: number; body: unknown; replayed?: boolean };
function scriptedFetch(steps: Step[]) {
  const sent: { url: string; body: { idempotencyKey?: string } & Record<string, unknown> }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({ url, body: JSON.parse(String(init.body)) });
    const step = steps.shift() ?? 'network';
    if (step === 'network') throw new TypeError('fetch failed');
    if (step === 'hang') {
      // As fetch does: an aborted signal rejects, whether it aborts before or during the request.
      return new Promise((_, reject) => {
        const abort = () => reject(new DOMException('aborted', 'AbortError'));
        if (init.signal?.aborted) abort();
        init.signal?.addEventListener('abort', abort);
      });
    }
    const headers = new Headers({ 'content-type': 'application/json' });
    if (step.replayed) headers.set('idempotent-replayed', 'true');
    return new Response(JSON.stringify(step.body), { status: step.status, headers });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

const order = { id: 'o1', userId: 'u1', amount: 4200, currency: 'usd', status: 'pending', version: 1 };
const ok = (replayed = false): Step => ({
  status: 200,
  body: {
    result: {
      data: {
        ...order,
        paymentMethodId: 'pm_card_visa',
        paymentIntentId: null,
        createdAt: 'x',
        updatedAt: 'x',
        paidAt: null,
      },
    },
  },
  replayed,
});
const trpcError = (httpStatus: number, code: string, domainCode: string | null, extra = {}): Step => ({
  status: httpStatus,
  body: { error: { message: 'm', code: -32000, data: { code, httpStatus, domainCode, ...extra } } },
});
const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const input = { amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' };

describe('the typed client', () => {
  it('gives a mutation a fresh key and retries a lost answer with the same key', async () => {
    const { fetch, sent } = scriptedFetch([
      'network',
      trpcError(500, 'INTERNAL_SERVER_ERROR', null),
      ok(true),
    ]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast });
    const receipt: IdempotencyReceipt = {};
    await client.orders.create.mutate(input, { context: { idempotency: receipt } });
    expect(sent).toHaveLength(3);
    const keys = new Set(sent.map((s) => s.body.idempotencyKey));
    expect(keys.size).toBe(1);
    expect(receipt).toEqual({ key: [...keys][0], replayed: true, tries: 3 });
    expect(receipt.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("uses the caller's key (input or receipt), and a new key for each new call", async () => {
    const { fetch, sent } = scriptedFetch([ok(), ok(), ok(), ok()]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast });
    await client.orders.create.mutate({ ...input, idempotencyKey: 'mine-1' });
    await client.orders.create.mutate(input, { context: { idempotency: { key: 'mine-2' } } });
    await client.orders.create.mutate(input);
    await client.orders.create.mutate(input);
    const keys = sent.map((s) => s.body.idempotencyKey);
    expect(keys.slice(0, 2)).toEqual(['mine-1', 'mine-2']);
    expect(keys[2]).not.toBe(keys[3]);
  });

  it('retries IDEMPOTENCY_KEY_IN_USE, waiting at least its hint', async () => {
    const inUse = trpcError(409, 'CONFLICT', 'IDEMPOTENCY_KEY_IN_USE', { retryAfterMs: 40 });
    const { fetch, sent } = scriptedFetch([inUse, ok(true)]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast });
    const started = performance.now();
    await client.orders.create.mutate(input);
    expect(sent).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
  });

  it('retries DATABASE_UNAVAILABLE (a database restarting or failing over) with the same key, after its hint', async () => {
    const down = trpcError(503, 'SERVICE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', { retryAfterMs: 30 });
    const { fetch, sent } = scriptedFetch([down, down, ok(true)]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast });
    const started = performance.now();
    await client.orders.pay.mutate({ orderId: 'o1' });
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.body.idempotencyKey)).size).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
  });

  it('never retries a typed domain error (a decline), a 4xx, or beyond maxRetries', async () => {
    const declined = trpcError(402, 'PAYMENT_REQUIRED', 'PAYMENT_DECLINED');
    const cases: [Step[], number][] = [
      [[declined], 1],
      [[trpcError(503, 'SERVICE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE')], 1],
      [[trpcError(400, 'BAD_REQUEST', null)], 1],
      [['network', 'network', 'network'], 3],
    ];
    for (const [steps, requests] of cases) {
      const { fetch, sent } = scriptedFetch(steps);
      const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast, maxRetries: 2 });
      await expect(client.orders.pay.mutate({ orderId: 'o1' })).rejects.toBeInstanceOf(TRPCClientError);
      expect(sent).toHaveLength(requests);
    }
  });

  it('abandons a try at timeoutMs and retries it with the same key', async () => {
    const { fetch, sent } = scriptedFetch(['hang', ok(true)]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast, timeoutMs: 20 });
    await client.orders.create.mutate(input);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.body.idempotencyKey).toBe(sent[1]?.body.idempotencyKey);
  });

  it('an abort between tries ends the call at once: no further try is sent', async () => {
    const { fetch, sent } = scriptedFetch(['network', ok()]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, baseDelayMs: 60_000 });
    const abort = new AbortController();
    const receipt: IdempotencyReceipt = {};
    const call = client.orders.create.mutate(input, {
      signal: abort.signal,
      context: { idempotency: receipt },
    });
    await expect.poll(() => sent.length).toBe(1);
    abort.abort();
    await expect(call).rejects.toBeInstanceOf(TRPCClientError);
    expect(sent).toHaveLength(1);
    expect(receipt.tries).toBe(1);
  });

  it('stops at once when its caller aborts', async () => {
    const { fetch, sent } = scriptedFetch(['hang', ok()]);
    const client = createChargeonceClient({ url: 'http://x', token: 't', fetch, ...fast });
    const abort = new AbortController();
    const call = client.orders.create.mutate(input, { signal: abort.signal });
    abort.abort();
    await expect(call).rejects.toBeInstanceOf(TRPCClientError);
    expect(sent).toHaveLength(1);
  });
});

describe('retry rules', () => {
  it('backs off exponentially with jitter, capped', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect(retryDelayMs(p, 1, undefined, () => 0)).toBe(p.baseDelayMs / 2);
    expect(retryDelayMs(p, 1, undefined, () => 1)).toBe(p.baseDelayMs);
    expect(retryDelayMs(p, 3, undefined, () => 1)).toBe(p.baseDelayMs * 4);
    expect(retryDelayMs(p, 30, undefined, () => 1)).toBe(p.maxDelayMs);
  });
  it('a failure without any answer is retryable; a caller abort is not', () => {
    expect(isRetryable(new Error('x'), false)).toBe(true);
    expect(isRetryable(new Error('x'), true)).toBe(false);
  });
});
