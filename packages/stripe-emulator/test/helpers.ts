import Stripe from 'stripe';
import type { StripeEmulator } from '../src/index';

export const TEST_KEY = 'sk_test_emulator_0123456789abcdef';

/** A real stripe-node client pointed at the emulator (SDK default API version, retries off unless asked). */
export function stripeFor(
  emulator: StripeEmulator,
  config: Stripe.StripeConfig = {},
  key = TEST_KEY,
): Stripe {
  return new Stripe(key, {
    host: emulator.host,
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    ...config,
  });
}

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON bodies are asserted on directly in tests.
type Json = any;

/** Raw HTTP helper for what the SDK hides (headers, odd inputs). */
export async function raw(
  emulator: StripeEmulator,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<{ status: number; headers: Headers; json: Json }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth !== null) headers.Authorization = `Bearer ${init.auth ?? TEST_KEY}`;
  if (init.body !== undefined) headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  const res = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : JSON.parse(text) };
}
