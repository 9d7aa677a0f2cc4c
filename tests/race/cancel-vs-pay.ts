import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerOf, finish, ORDER_AMOUNT, type Race, row, Tally } from './shared';
import { cancelVsPayFailures, summarizeTrials, type TrialEnd } from './verdicts';

/** Trials run this many at a time (each trial's pay and cancel are in flight together). */
export const PARALLEL_TRIALS = 8;
/**
 * The two calls of a trial are fired within this many ms of each other, in random order (0: one
 * right after the other, before anything is awaited), so either may reach the order first.
 */
export const CANCEL_JITTER_MS = 3;
/** The provider latency when `--latency-ms` is not given: a cancel may meet the payment in flight. */
export const CANCEL_VS_PAY_LATENCY_MS = 20;

/**
 * `--op cancel-vs-pay`: per trial a fresh pending order, then one `orders.pay` and one
 * `orders.cancel` in flight together (on two instances when there are several). Afterwards, per
 * order: its status in the database and its PaymentIntents at the provider (by `metadata.order_id`).
 * Exactly one may win: canceled with no PaymentIntent, or paid with one.
 */
export async function raceCancelVsPay(race: Race, trials: number, latencyMs: number): Promise<number> {
  const { stack, instances, log } = race;
  const user = await stack.newUser('race');
  log(
    `${trials} trials of one pay and one cancel (fired 0-${CANCEL_JITTER_MS} ms apart, either first) across ` +
      `${instances} instance(s), ${PARALLEL_TRIALS} trials at a time, provider latency ${latencyMs} ms`,
  );
  const answers = new Tally();
  const cancelAnswers = new Map<string, string>();
  let next = 0;
  const runTrials = async () => {
    for (let t = next++; t < trials; t = next++) {
      const payer = user.clients[t % instances]!;
      const canceler = user.clients[(t + 1) % instances]!;
      const order = await payer.orders.create.mutate({
        amount: ORDER_AMOUNT,
        currency: 'usd',
        paymentMethodId: race.card,
      });
      // The cancel's start minus the pay's: negative, the cancel goes first.
      const offsetMs = randomInt(-CANCEL_JITTER_MS, CANCEL_JITTER_MS + 1);
      const pay = after(-offsetMs, () => payer.orders.pay.mutate({ orderId: order.id }));
      const cancel = after(offsetMs, () => canceler.orders.cancel.mutate({ orderId: order.id }));
      const [paid, canceled] = await Promise.allSettled([pay, cancel]);
      cancelAnswers.set(order.id, answerOf(canceled));
      answers.add(`pay ${answerOf(paid)}, cancel ${answerOf(canceled)}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(PARALLEL_TRIALS, trials) }, runTrials));
  const elapsedMs = performance.now() - started;

  const intents = new Map<string, number>();
  for (const pi of stack.emulator.paymentIntents()) {
    const orderId = pi.metadata.order_id ?? '';
    intents.set(orderId, (intents.get(orderId) ?? 0) + 1);
  }
  const rows = await stack.db.sql`select id, status from orders where user_id = ${user.id}`;
  const ends: TrialEnd[] = rows.map((o) => ({
    status: o.status as string,
    paymentIntents: intents.get(o.id as string) ?? 0,
    cancelAnswer: cancelAnswers.get(o.id as string) ?? 'none',
  }));
  const summary = { ...summarizeTrials(ends), trials };
  const share = (n: number) => `${n} (${((100 * n) / trials).toFixed(0)}%)`;
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(row('canceled', share(summary.canceled)));
  log(row('paid', share(summary.paid)));
  log(row('both', summary.both));
  log(row('neither', summary.neither));
  log(row('provider PaymentIntents', summary.provider_payment_intents));
  log('  answers:');
  for (const line of answers.lines()) log(line);
  return finish(race, summary, cancelVsPayFailures(summary));
}

const after = <T>(ms: number, call: () => Promise<T>): Promise<T> =>
  ms <= 0 ? call() : sleep(ms).then(call);
