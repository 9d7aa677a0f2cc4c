import {
  answerOf,
  finish,
  fireTogether,
  ORDER_AMOUNT,
  PARALLEL_TRIALS,
  type Race,
  row,
  runTrials,
  share,
  Tally,
  TRIAL_JITTER_MS,
} from './shared';
import { cancelVsPayFailures, summarizeTrials, type TrialEnd } from './verdicts';

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
    `${trials} trials of one pay and one cancel (fired 0-${TRIAL_JITTER_MS} ms apart, either first) across ` +
      `${instances} instance(s), ${PARALLEL_TRIALS} trials at a time, provider latency ${latencyMs} ms`,
  );
  const answers = new Tally();
  const cancelAnswers = new Map<string, string>();
  const started = performance.now();
  await runTrials(trials, async (t) => {
    const payer = user.clients[t % instances]!;
    const canceler = user.clients[(t + 1) % instances]!;
    const order = await payer.orders.create.mutate({
      amount: ORDER_AMOUNT,
      currency: 'usd',
      paymentMethodId: race.card,
    });
    const [paid, canceled] = await fireTogether(
      () => payer.orders.pay.mutate({ orderId: order.id }),
      () => canceler.orders.cancel.mutate({ orderId: order.id }),
    );
    cancelAnswers.set(order.id, answerOf(canceled));
    answers.add(`pay ${answerOf(paid)}, cancel ${answerOf(canceled)}`);
  });
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
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(row('canceled', share(summary.canceled, trials)));
  log(row('paid', share(summary.paid, trials)));
  log(row('both', summary.both));
  log(row('neither', summary.neither));
  log(row('provider PaymentIntents', summary.provider_payment_intents));
  log('  answers:');
  for (const line of answers.lines()) log(line);
  return finish(race, summary, cancelVsPayFailures(summary));
}
