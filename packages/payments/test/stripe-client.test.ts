import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createStripeGateway } from '../src/stripe-gateway';

/**
 * The gateway's own bounds on a provider call, against a scripted HTTP server: how many tries a
 * call made decides what a refused key means, and no try is sent past the call's deadline.
 */
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Answers the n-th request (0-based) with `script(n)`; records when each arrived. */
async function scripted(script: (n: number, res: ServerResponse) => void) {
  const arrivals: number[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    arrivals.push(Date.now());
    script(arrivals.length - 1, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { arrivals, apiBase: `http://127.0.0.1:${port}` };
}
const json = (res: ServerResponse, status: number, body: object) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const authError = {
  error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' },
};
const serverError = { error: { type: 'api_error', message: 'boom' } };
const request = {
  amount: 1000,
  currency: 'usd',
  paymentMethodId: 'pm_card_visa',
  idempotencyKey: 'key-1',
  metadata: {},
  captureMethod: 'automatic' as const,
  returnUrl: null,
};

describe('a refused key', () => {
  it('on the first try: nothing executed, the provider is unavailable', async () => {
    const { apiBase, arrivals } = await scripted((_n, res) => json(res, 401, authError));
    const gateway = createStripeGateway({ secretKey: 'sk_test_x', apiBase, maxNetworkRetries: 2 });
    expect(await gateway.charge(request)).toEqual({
      kind: 'unavailable',
      reason: 'StripeAuthenticationError',
    });
    expect(arrivals).toHaveLength(1);
  });

  it('after a retry: the earlier try may have executed, so the outcome is unknown', async () => {
    const { apiBase, arrivals } = await scripted((n, res) =>
      n === 0 ? json(res, 500, serverError) : json(res, 401, authError),
    );
    const gateway = createStripeGateway({ secretKey: 'sk_test_x', apiBase, maxNetworkRetries: 2 });
    expect(await gateway.charge(request)).toMatchObject({ kind: 'unknown' });
    expect(arrivals).toHaveLength(2);
  });
});

describe('the call deadline', () => {
  it('cuts a hanging try and starts no try after it, whatever the SDK would retry', async () => {
    // Never answers: every try hangs until it is cut.
    const { apiBase, arrivals } = await scripted(() => {});
    const gateway = createStripeGateway({
      secretKey: 'sk_test_x',
      apiBase,
      timeoutMs: 10_000,
      maxNetworkRetries: 3,
      callTimeoutMs: 300,
    });
    const started = Date.now();
    const result = await gateway.charge(request);
    expect(result).toMatchObject({ kind: 'unknown' });
    // Without the deadline the first try alone would hang for its 10 s timeout.
    expect(arrivals).toHaveLength(1);
    for (const at of arrivals) expect(at - started).toBeLessThan(300);
  });
});

describe('every provider request is logged', () => {
  it("each try, with Stripe's request id, the idempotency key and the status; never the secret key", async () => {
    const { apiBase } = await scripted((n, res) => {
      res.setHeader('request-id', `req_try${n + 1}`);
      if (n === 0) json(res, 500, serverError);
      else json(res, 200, { id: 'pi_1', object: 'payment_intent', status: 'succeeded', amount: 1000 });
    });
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
    const at = (level: string) => (obj: object, msg?: string) =>
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    const logger = { info: at('info'), warn: at('warn'), error: at('error') };
    const gateway = createStripeGateway({
      secretKey: 'sk_test_secret_x',
      apiBase,
      maxNetworkRetries: 2,
      logger,
    });
    expect(await gateway.charge(request)).toMatchObject({ kind: 'succeeded', paymentIntentId: 'pi_1' });
    await expect.poll(() => lines.length).toBe(2);
    const common = { method: 'POST', path: '/v1/payment_intents', idempotencyKey: 'key-1' };
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'stripe request',
        obj: { ...common, try: 1, status: 500, stripeRequestId: 'req_try1', durationMs: expect.any(Number) },
      },
      {
        level: 'info',
        msg: 'stripe request',
        obj: { ...common, try: 2, status: 200, stripeRequestId: 'req_try2', durationMs: expect.any(Number) },
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('sk_test_secret_x');
  });
});
