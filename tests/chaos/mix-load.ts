import { AUTHORIZATION_REOPEN, IN_FLIGHT_ORDER_STATUSES } from '@chargeonce/db';
import type { Cluster } from './cluster';
import type { ChallengeRecord, HoldAnswer } from './hold-invariants';
import { challengeLoad, type HoldActors, holdLoad } from './hold-load';
import type { PayAnswer } from './invariants';
import { answerCode, count, keyedCall, payPlan, sleep, type Tally } from './load';
import type { RefundPlan } from './mix';
import type { CancelAnswer, RefundAnswer } from './refund-invariants';
import type { OrderPlan } from './scenario';

/** A caller whose refund was answered `pending` asks again with its key this much later. */
const REASK_MS = 500;
/** How long refunds wait for an order whose pay was not answered finally (recovery settles it). */
const PAYMENT_WAIT_MS = 5000;

/** What the load did and was told, for the audits. */
export interface Load {
  tally: Tally;
  pays: PayAnswer[];
  /** One key per logical refund / cancel: the calls the scenario made. */
  refundKeys: Set<string>;
  refunds: RefundAnswer[];
  cancelKeys: Set<string>;
  cancels: CancelAnswer[];
  /** One key per logical capture / void, what their callers were told, and the challenges met. */
  captureKeys: Set<string>;
  voidKeys: Set<string>;
  holds: HoldAnswer[];
  challenges: ChallengeRecord[];
}

export const emptyLoad = (): Load => ({
  tally: {},
  pays: [],
  refundKeys: new Set(),
  refunds: [],
  cancelKeys: new Set(),
  cancels: [],
  captureKeys: new Set(),
  voidKeys: new Set(),
  holds: [],
  challenges: [],
});

/**
 * One order's load: its pays (`payPlan`) with its cancel racing the phase it names; its 3-D Secure
 * customer and what the merchant does with its hold, if it has them (hold-load.ts); then its
 * refunds, each under its own key (`<keyPrefix>-refund-<j>`), at their planned offsets.
 */
export async function orderLoad(
  cluster: Cluster,
  token: string,
  keyPrefix: string,
  orderId: string,
  plan: OrderPlan,
  load: Load,
  actors: HoldActors,
): Promise<void> {
  const cancel = plan.cancel;
  await payPlan(
    cluster,
    token,
    orderId,
    plan,
    load.pays,
    load.tally,
    cancel
      ? {
          phase: cancel.against,
          offsetMs: cancel.offsetMs,
          run: () => cancelOnce(cluster, token, `${keyPrefix}-cancel`, orderId, cancel.copies, load),
        }
      : undefined,
  );
  if (plan.challenge) await challengeLoad(cluster, token, orderId, plan.challenge, actors, load);
  if (plan.hold) await holdLoad(cluster, token, keyPrefix, orderId, plan.hold, actors, load);
  if (plan.refunds.length === 0) return;
  await paymentSettled(cluster, token, orderId);
  const start = Date.now();
  await Promise.all(
    plan.refunds.map(async (refund, j) => {
      await sleep(start + refund.afterMs - Date.now());
      await refundOnce(cluster, token, `${keyPrefix}-refund-${j}`, orderId, refund, load);
    }),
  );
}

/**
 * Until the order is no longer pending, being paid, or being captured or voided (bounded): a
 * caller refunds what it knows paid.
 */
async function paymentSettled(cluster: Cluster, token: string, orderId: string): Promise<void> {
  const unsettled: readonly string[] = ['pending', ...IN_FLIGHT_ORDER_STATUSES, ...AUTHORIZATION_REOPEN.from];
  const deadline = Date.now() + PAYMENT_WAIT_MS;
  while (Date.now() < deadline) {
    const got = await cluster
      .client(token, 0)
      ?.orders.get.query({ orderId })
      .catch(() => undefined);
    if (got && !unsettled.includes(got.order.status)) return;
    await sleep(200);
  }
}

/**
 * One logical refund under its key (`keyedCall`: copies at once, retried on another instance when
 * no answer came). `pending` is no final answer for the key, and PROVIDER_UNAVAILABLE asks for a
 * retry with it: then the caller asks again with the key, once.
 */
async function refundOnce(
  cluster: Cluster,
  token: string,
  key: string,
  orderId: string,
  plan: RefundPlan,
  load: Load,
): Promise<void> {
  load.refundKeys.add(key);
  const input = { orderId, idempotencyKey: key, ...(plan.amount === null ? {} : { amount: plan.amount }) };
  const ask = (copies: number) =>
    keyedCall(
      cluster,
      token,
      'refund',
      copies,
      async (client) => {
        try {
          const { outcome, refund } = await client.orders.refund.mutate(input);
          const { id: refundId, amount } = refund;
          load.refunds.push({ key, orderId, outcome, refundId, amount, asked: plan.amount });
          return count(load.tally, `refund ${outcome}`);
        } catch (err) {
          if (answerCode(err) !== 'PROVIDER_UNAVAILABLE') throw err;
          return count(load.tally, 'refund error PROVIDER_UNAVAILABLE');
        }
      },
      load.tally,
    );
  const told = await ask(plan.copies);
  if (told.some((t) => t === 'refund pending' || t === 'refund error PROVIDER_UNAVAILABLE')) {
    await sleep(REASK_MS);
    await ask(1);
  }
}

/** One logical cancel under its key, `copies` times at once (`keyedCall`). */
async function cancelOnce(
  cluster: Cluster,
  token: string,
  key: string,
  orderId: string,
  copies: number,
  load: Load,
): Promise<void> {
  load.cancelKeys.add(key);
  await keyedCall(
    cluster,
    token,
    'cancel',
    copies,
    async (client) => {
      const { outcome } = await client.orders.cancel.mutate({ orderId, idempotencyKey: key });
      load.cancels.push({ key, orderId, outcome });
      return count(load.tally, outcome);
    },
    load.tally,
  );
}
