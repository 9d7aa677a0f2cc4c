import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TRPCClientError } from '@chargeonce/client';
import type { Stack } from '../support/stack';

/** Every race's order: 4200 minor units (divisible by 1-8, 10, 12, 14, 15, 20, ...). */
export const ORDER_AMOUNT = 4200;

/** What every op gets from the command line and the stack it started. */
export interface Race {
  stack: Stack;
  instances: number;
  /** The orders' payment method. */
  card: string;
  json: boolean;
  /** Human output: stdout, or stderr with `--json` (stdout's last line is the JSON then). */
  log: (line: string) => void;
}

/** Why a call did not end as the race expects, for the human summary. */
export const reasonOf = (err: unknown) =>
  err instanceof TRPCClientError ? `${err.data?.code ?? 'error'}: ${err.message}` : String(err);

/** The domain code of a typed refusal (`data.domainCode`), if the error is one. */
export const domainCodeOf = (err: unknown): string | undefined =>
  err instanceof TRPCClientError && typeof err.data?.domainCode === 'string'
    ? err.data.domainCode
    : undefined;

/** A settled call in one word: its `outcome`, the refusal's domain code, or why it failed. */
export const answerOf = (r: PromiseSettledResult<{ outcome: string }>): string =>
  r.status === 'fulfilled' ? r.value.outcome : (domainCodeOf(r.reason) ?? reasonOf(r.reason));

/** Counts by label, in first-seen order. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
  /** One indented `N x label` line per label. */
  lines(indent = '    '): string[] {
    return [...this.counts].map(([label, n]) => `${indent}${n} x ${label}`);
  }
}

/** One `  label   value` line of a summary, values aligned in one column. */
export const row = (label: string, value: unknown) => `  ${label.padEnd(25)}${String(value)}`;

/**
 * The end of an op: its failed invariants (one line each), the JSON summary as stdout's last line
 * with `--json`, and the exit status (1 when anything failed).
 */
export function finish(race: Race, summary: object, failures: string[]): number {
  for (const failure of failures) race.log(`FAILED: ${failure}`);
  if (race.json) console.log(JSON.stringify(summary));
  return failures.length === 0 ? 0 : 1;
}

/** Trial ops (cancel-vs-pay, capture-vs-void) run this many trials at a time. */
export const PARALLEL_TRIALS = 8;
/**
 * A trial's two calls are fired within this many ms of each other, in random order (0: one right
 * after the other, before anything is awaited), so either may reach the order first.
 */
export const TRIAL_JITTER_MS = 3;
/** The trial ops' provider latency when `--latency-ms` is not given: a call can meet the other's in flight. */
export const TRIAL_LATENCY_MS = 20;

/** Runs `trial(0)` ... `trial(trials - 1)`, `PARALLEL_TRIALS` at a time. */
export async function runTrials(trials: number, trial: (t: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let t = next++; t < trials; t = next++) await trial(t);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_TRIALS, trials) }, worker));
}

/**
 * Two calls in flight together: fired 0-`TRIAL_JITTER_MS` ms apart in random order, neither
 * awaited before the other is issued; both settled.
 */
export function fireTogether<A, B>(
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
  // The second's start minus the first's: negative, the second goes first.
  const offsetMs = randomInt(-TRIAL_JITTER_MS, TRIAL_JITTER_MS + 1);
  return Promise.allSettled([after(-offsetMs, first), after(offsetMs, second)]);
}

const after = <T>(ms: number, call: () => Promise<T>): Promise<T> =>
  ms <= 0 ? call() : sleep(ms).then(call);

/** `n (p%)` of `total`. */
export const share = (n: number, total: number) => `${n} (${((100 * n) / total).toFixed(0)}%)`;
