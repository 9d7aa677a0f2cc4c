import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type EmulatorOptions, type StripeEmulator, startStripeEmulator } from '../src/index';

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

export interface UseEmulatorOptions {
  /** Start options, or a function returning them when the emulator starts (e.g. from another fixture). */
  start?: EmulatorOptions | (() => EmulatorOptions);
  /** Before each test: `emulator.reset()`. */
  reset?: boolean;
  /** Before each test, after the reset: `emulator.clearFaults()`. */
  clearFaults?: boolean;
  /** Before each test, after `reset`/`clearFaults`: what else the file restores (latency, TTL, webhooks...). */
  beforeEach?: (emulator: StripeEmulator) => void;
}

/**
 * One emulator for the whole file: started in `beforeAll` (with a `stripeFor` client, both handed to
 * `assign`), closed in `afterAll`, and optionally reset before each test.
 *
 *     let emulator: StripeEmulator;
 *     let stripe: Stripe;
 *     useEmulator((e) => ({ emulator, stripe } = e), { reset: true });
 */
export function useEmulator(
  assign: (env: { emulator: StripeEmulator; stripe: Stripe }) => void,
  options: UseEmulatorOptions = {},
): void {
  let emulator: StripeEmulator;
  beforeAll(async () => {
    const start = typeof options.start === 'function' ? options.start() : options.start;
    emulator = await startStripeEmulator(start);
    assign({ emulator, stripe: stripeFor(emulator) });
  });
  afterAll(() => emulator.close());
  const { reset, clearFaults, beforeEach: each } = options;
  if (reset || clearFaults || each) {
    beforeEach(() => {
      if (reset) emulator.reset();
      if (clearFaults) emulator.clearFaults();
      each?.(emulator);
    });
  }
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
