import type { ChargeonceClient } from '@chargeonce/client';
import type { StripeEmulator } from '@chargeonce/stripe-emulator';
import type { Cluster } from './cluster';
import type { ChallengeRecord, HoldAnswer } from './hold-invariants';
import type { ChallengePlan, HoldPlan } from './holds';
import { answerCode, count, keyedCall, pay, sleep } from './load';
import type { Load } from './mix-load';
import { VISA } from './scenario';

/** A caller told `pending` (or PROVIDER_UNAVAILABLE) asks again with its key this much later, this often. */
const REASK_MS = 500;
const REASKS = 3;
/** How long the customer waits for the challenge to open (a pay whose answer was lost: recovery opens it). */
const CHALLENGE_OPEN_WAIT_MS = 8000;
/** How long a hold waits for its order to be authorized or to settle otherwise. */
const AUTHORIZED_WAIT_MS = 8000;
const POLL_MS = 50;

/** Who acts on holds and challenges besides the customer: the merchant's service, and the bank. */
export interface HoldActors {
  /** A service token with `orders:read` and `orders:capture` (user tokens cannot capture). */
  merchantToken: string;
  /** The emulator plays the customer at the bank (completeChallenge / failChallenge). */
  emulator: StripeEmulator;
}

/**
 * The 3-D Secure customer: waits (bounded) for the order's challenge to open at the provider, then
 * after the plan's delay completes or fails it (or walks away), comes back to the order
 * (`orders.get`, which re-reads the PaymentIntent, racing the webhook and recovery), and after a
 * failure may pay again with `pm_card_visa`.
 */
export async function challengeLoad(
  cluster: Cluster,
  token: string,
  orderId: string,
  plan: ChallengePlan,
  actors: HoldActors,
  load: Load,
): Promise<void> {
  const { emulator } = actors;
  const deadline = Date.now() + CHALLENGE_OPEN_WAIT_MS;
  const open = () =>
    emulator
      .paymentIntents()
      .find((pi) => pi.metadata.order_id === orderId && pi.status === 'requires_action');
  let intent = open();
  while (!intent && Date.now() < deadline) {
    await sleep(POLL_MS);
    intent = open();
  }
  if (!intent) {
    count(load.tally, 'challenge never opened');
    return;
  }
  const record: ChallengeRecord = {
    orderId,
    paymentIntentId: intent.id,
    planned: plan.action,
    result: 'none',
  };
  load.challenges.push(record);
  await sleep(plan.afterMs);
  if (plan.action === 'abandon') return void count(load.tally, 'challenge abandoned');
  const done =
    plan.action === 'complete' ? emulator.completeChallenge(intent.id) : emulator.failChallenge(intent.id);
  // Too late: recovery canceled the challenge first (an abandoned one after all).
  if (done.changed) record.result = plan.action === 'complete' ? 'completed' : 'failed';
  const verb = plan.action === 'complete' ? 'completed' : 'failed';
  count(load.tally, done.changed ? `challenge ${verb}` : `challenge ${plan.action} too late`);
  await cluster
    .client(token, 0)
    ?.orders.get.query({ orderId })
    .catch(() => undefined);
  if (plan.repay && record.result === 'failed')
    await pay(cluster, token, orderId, 1, VISA, load.pays, load.tally);
}

/**
 * What the merchant does with a hold: once the order is authorized (waited for, bounded; a hold
 * that never came is skipped), the plan's capture and void, racing at their offsets, each one
 * logical call under its own key (`<keyPrefix>-capture`, `<keyPrefix>-void`).
 */
export async function holdLoad(
  cluster: Cluster,
  token: string,
  keyPrefix: string,
  orderId: string,
  plan: HoldPlan,
  actors: HoldActors,
  load: Load,
): Promise<void> {
  const status = await decidedStatus(cluster, token, orderId);
  if (status !== 'authorized') return void count(load.tally, `hold skipped (${status})`);
  await sleep(plan.afterMs);
  const offset = plan.capture && plan.void ? plan.voidOffsetMs : 0;
  const { capture, void: voided } = plan;
  await Promise.all([
    capture &&
      sleep(-Math.min(0, offset)).then(() =>
        holdOnce(cluster, actors, `${keyPrefix}-capture`, orderId, 'capture', capture, load),
      ),
    voided &&
      sleep(Math.max(0, offset)).then(() =>
        holdOnce(cluster, actors, `${keyPrefix}-void`, orderId, 'void', { ...voided, amount: null }, load),
      ),
  ]);
}

/** The order's status once no pay is deciding it (pending, processing, requires_action), bounded. */
async function decidedStatus(cluster: Cluster, token: string, orderId: string): Promise<string> {
  const deciding: readonly string[] = ['pending', 'processing', 'requires_action'];
  const deadline = Date.now() + AUTHORIZED_WAIT_MS;
  let status = 'unknown';
  while (Date.now() < deadline) {
    const got = await cluster
      .client(token, 0)
      ?.orders.get.query({ orderId })
      .catch(() => undefined);
    status = got?.order.status ?? status;
    if (got && !deciding.includes(status)) return status;
    await sleep(200);
  }
  return status;
}

/**
 * One logical capture or void under its key (`keyedCall`: copies at once, retried on another
 * instance when no answer came). `pending` is no final answer for the key, and PROVIDER_UNAVAILABLE
 * asks for a retry with it: then the caller asks again with the key, a few times.
 */
async function holdOnce(
  cluster: Cluster,
  actors: HoldActors,
  key: string,
  orderId: string,
  kind: HoldAnswer['kind'],
  plan: { amount: number | null; copies: number },
  load: Load,
): Promise<void> {
  (kind === 'capture' ? load.captureKeys : load.voidKeys).add(key);
  const call = async (client: ChargeonceClient) => {
    const input = { orderId, idempotencyKey: key };
    if (kind === 'void') return client.orders.void.mutate(input);
    return client.orders.capture.mutate(plan.amount === null ? input : { ...input, amount: plan.amount });
  };
  const ask = (copies: number) =>
    keyedCall(
      cluster,
      actors.merchantToken,
      kind,
      copies,
      async (client) => {
        try {
          const { outcome, capture } = await call(client);
          load.holds.push({
            key,
            orderId,
            kind,
            outcome,
            captureId: capture?.id ?? null,
            asked: plan.amount,
          });
          return count(load.tally, `${kind} ${outcome}`);
        } catch (err) {
          if (answerCode(err) !== 'PROVIDER_UNAVAILABLE') throw err;
          return count(load.tally, `${kind} error PROVIDER_UNAVAILABLE`);
        }
      },
      load.tally,
    );
  let told = await ask(plan.copies);
  for (let i = 0; i < REASKS && told.some((t) => t?.endsWith('pending') || t?.endsWith('UNAVAILABLE')); i++) {
    await sleep(REASK_MS);
    told = await ask(1);
  }
}
