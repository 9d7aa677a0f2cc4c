import type { FaultRule, Rng } from '@chargeonce/stripe-emulator';
import { p } from './mix';

const ERROR_STATUSES = [500, 502, 503] as const;

/** Two to five of the fault kinds, each on a seeded share of the provider calls. */
export function faultRules(rng: Rng, timeoutMs: number, hangMaxMs: number): FaultRule[] {
  const create = 'payment_intents.create';
  const candidates: (() => FaultRule)[] = [
    () => ({
      fault: 'error_before',
      operation: create,
      probability: p(rng, 0.05, 0.25),
      status: rng.pick(ERROR_STATUSES),
    }),
    () => ({
      fault: 'error_after',
      operation: create,
      probability: p(rng, 0.05, 0.2),
      status: rng.pick(ERROR_STATUSES),
    }),
    () => ({ fault: 'reset_after', operation: create, probability: p(rng, 0.1, 0.3) }),
    () =>
      rng.chance(0.5)
        ? {
            fault: 'hang',
            operation: create,
            probability: p(rng, 0.05, 0.15),
            ms: rng.int(timeoutMs + 100, hangMaxMs),
          }
        : { fault: 'hang', operation: create, probability: p(rng, 0.05, 0.15) },
    () => ({
      fault: 'latency',
      operation: '*',
      probability: p(rng, 0.1, 0.4),
      ms: rng.int(20, Math.round(timeoutMs * 0.8)),
    }),
    () => ({ fault: 'in_use_409', operation: create, probability: p(rng, 0.05, 0.2) }),
    // Lookups fail too: the webhook's re-read and recovery's search must treat that as "not known yet".
    () => ({
      fault: 'error_before',
      operation: ['payment_intents.retrieve', 'payment_intents.search'],
      probability: p(rng, 0.1, 0.3),
    }),
  ];
  const count = rng.int(2, 5);
  const rules: FaultRule[] = [];
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(rng.int(0, candidates.length - 1));
  for (const i of [...chosen].sort((a, b) => a - b)) rules.push(candidates[i]!());
  return rules;
}
