import { createChargeonceClient } from '@chargeonce/client';
import { createService, issueToken } from '@chargeonce/db';
import { createStripeGateway } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import { type AuthorizationCalls, naiveAuthorizationCalls } from './naive-capture';
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
import {
  type CaptureTrialEnd,
  captureVsVoidFailures,
  type ProviderIntent,
  summarizeCaptureTrials,
} from './verdicts';

/**
 * `--op capture-vs-void`: per trial a fresh order to capture later, paid (authorized: the provider
 * holds the funds), then one `orders.capture` and one `orders.void` in flight together, by a service
 * holding `orders:capture` (on two instances when there are several). Afterwards, per order: its
 * status in the database and its PaymentIntent at the provider (by `metadata.order_id`). Exactly
 * one may win: paid with the whole amount captured, or canceled with the hold released.
 * `naive`: the capture and the void are done by `naive-capture.ts` instead (the run must fail).
 */
export async function raceCaptureVsVoid(
  race: Race,
  trials: number,
  options: { latencyMs: number; naive: boolean },
): Promise<number> {
  const { stack, instances, log } = race;
  const user = await stack.newUser('race');
  const calls = options.naive ? naiveCalls(race) : await merchantCalls(race);
  log(
    `${trials} trials of one capture and one void of an authorized order (fired 0-${TRIAL_JITTER_MS} ms apart, ` +
      `either first) across ${instances} instance(s), ${PARALLEL_TRIALS} trials at a time, provider latency ` +
      `${options.latencyMs} ms${options.naive ? ', by the NAIVE check-then-act code (expected to fail)' : ''}`,
  );
  const answers = new Tally();
  const ended = new Map<string, { captureAnswer: string; voidAnswer: string }>();
  const started = performance.now();
  await runTrials(trials, async (t) => {
    const customer = user.clients[t % instances]!;
    const order = await customer.orders.create.mutate({
      amount: ORDER_AMOUNT,
      currency: 'usd',
      paymentMethodId: race.card,
      captureMethod: 'manual',
    });
    const paid = await customer.orders.pay.mutate({ orderId: order.id });
    if (paid.outcome !== 'authorized') throw new Error(`paying order ${order.id} answered ${paid.outcome}`);
    const [captured, voided] = await fireTogether(
      () => calls.capture(order.id, t),
      () => calls.void(order.id, t + 1),
    );
    ended.set(order.id, { captureAnswer: answerOf(captured), voidAnswer: answerOf(voided) });
    answers.add(`capture ${answerOf(captured)}, void ${answerOf(voided)}`);
  });
  const elapsedMs = performance.now() - started;

  const intents = new Map<string, ProviderIntent[]>();
  for (const pi of stack.emulator.paymentIntents()) {
    const orderId = pi.metadata.order_id ?? '';
    intents.set(orderId, [...(intents.get(orderId) ?? []), pi]);
  }
  const rows = await stack.db.sql`select id, status, amount from orders where user_id = ${user.id}`;
  const ends: CaptureTrialEnd[] = rows.map((o) => ({
    amount: o.amount as number,
    status: o.status as string,
    intents: intents.get(o.id as string) ?? [],
    ...(ended.get(o.id as string) ?? { captureAnswer: 'none', voidAnswer: 'none' }),
  }));
  const summary = { ...summarizeCaptureTrials(ends), trials };
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(row('captured', share(summary.captured, trials)));
  log(row('voided', share(summary.voided, trials)));
  log(row('both', summary.both));
  log(row('neither', summary.neither));
  log(row('provider captures', summary.provider_captures));
  log(row('mismatches', summary.mismatches));
  log('  answers:');
  for (const line of answers.lines()) log(line);
  return finish(race, summary, captureVsVoidFailures(summary));
}

/** The capture and the void of trial t, by the instance at index `instance` modulo K. */
type TrialCalls = {
  [K in keyof AuthorizationCalls]: (orderId: string, instance: number) => ReturnType<AuthorizationCalls[K]>;
};

/** chargeonce: a service holding `orders:capture` (user tokens lack it), one typed client per instance. */
async function merchantCalls(race: Race): Promise<TrialCalls> {
  const { db, servers } = race.stack;
  const service = await createService(db.db, { name: `race-merchant-${Date.now()}` });
  const { token } = await issueToken(db.db, {
    owner: { kind: 'service', serviceId: service.id },
    scopes: ['orders:capture'],
  });
  const clients = servers.map((s) => createChargeonceClient({ url: s.url, token }));
  const at = (i: number) => clients[i % clients.length]!;
  return {
    capture: (orderId, i) => at(i).orders.capture.mutate({ orderId }),
    void: (orderId, i) => at(i).orders.void.mutate({ orderId }),
  };
}

/** The naive code, run in this process on the stack's database and emulator. */
function naiveCalls(race: Race): TrialCalls {
  const gateway = createStripeGateway({
    secretKey: EMULATOR_SECRET_KEY,
    apiBase: race.stack.emulator.url,
    maxNetworkRetries: 0,
  });
  const naive = naiveAuthorizationCalls(race.stack.db.db, gateway);
  return { capture: (orderId) => naive.capture(orderId), void: (orderId) => naive.void(orderId) };
}
