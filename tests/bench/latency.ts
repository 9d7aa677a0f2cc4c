import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentGateway } from '@chargeonce/payments';

/**
 * Provider latency for `provider_latency`: log-normal (the usual shape of a remote API's response
 * times: most calls near the median, a long right tail), parameterised by its median and its p99;
 * the standard deviation of the log is ln(p99 / median) / z(0.99). Draws above `capMs` are cut to
 * it (at the full run's shape that is about 1 draw in 100,000), so one freak draw cannot outlast
 * `payOrder`'s 10 s deadline.
 */
export interface LatencyShape {
  medianMs: number;
  p99Ms: number;
  capMs: number;
}

/** Stripe-like confirm times: median 300 ms, p99 1.8 s (mean ≈ 400 ms, p99.9 ≈ 3.2 s). */
export const STRIPE_LIKE: LatencyShape = { medianMs: 300, p99Ms: 1_800, capMs: 8_000 };

const Z99 = 2.326_347_874;

/** mulberry32: a small, fast, seeded 32-bit PRNG, uniform in [0, 1). Same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Log-normal draws of `shape` from a seeded PRNG (Box–Muller for the normal). */
export function logNormal(shape: LatencyShape, seed: number): () => number {
  const random = seededRandom(seed);
  const sigma = Math.log(shape.p99Ms / shape.medianMs) / Z99;
  return () => {
    const u = 1 - random(); // (0, 1]: log(u) is finite
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.min(shape.capMs, shape.medianMs * Math.exp(sigma * z));
  };
}

/**
 * The real gateway (the `stripe` SDK to the zero-latency emulator) behind a delay drawn for each
 * charge, so a strategy holds whatever it holds (a pooled connection, a row lock, nothing) for a
 * provider-like time. `reseed` before each cell: every strategy of a round draws the same sequence.
 */
export function slowGateway(
  real: PaymentGateway,
  shape: LatencyShape,
): { gateway: PaymentGateway; reseed(seed: number): void } {
  let draw = logNormal(shape, 1);
  return {
    gateway: {
      ...real,
      charge: async (request) => {
        await sleep(draw());
        return real.charge(request);
      },
    },
    reseed(seed) {
      draw = logNormal(shape, seed);
    },
  };
}
