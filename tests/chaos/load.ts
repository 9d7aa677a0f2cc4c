import { TRPCClientError } from '@chargeonce/client';
import type { Cluster } from './cluster';
import type { CreateAnswer, PayAnswer } from './invariants';
import { type OrderPlan, VISA } from './scenario';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Tally of what payers heard, for the log (invariants use the answers themselves). */
export type Tally = Record<string, number>;

/**
 * Pays one order as its plan says: `copies` concurrent pays through different live instances,
 * then, after a decline, `repayCopies` pays with another card. A pay whose server died under it
 * is retried on another live one, as a real client would (paying twice is safe: that is the point).
 */
export async function payPlan(
  cluster: Cluster,
  token: string,
  orderId: string,
  plan: OrderPlan,
  answers: PayAnswer[],
  tally: Tally,
): Promise<void> {
  const first = await Promise.all(
    Array.from({ length: plan.copies }, (_, i) => pay(cluster, token, orderId, i, undefined, answers, tally)),
  );
  if (plan.repayCopies > 0 && first.includes('declined')) {
    await Promise.all(
      Array.from({ length: plan.repayCopies }, (_, i) =>
        pay(cluster, token, orderId, i, VISA, answers, tally),
      ),
    );
  }
}

async function pay(
  cluster: Cluster,
  token: string,
  orderId: string,
  spread: number,
  paymentMethodId: string | undefined,
  answers: PayAnswer[],
  tally: Tally,
): Promise<string> {
  const count = (what: string) => {
    tally[what] = (tally[what] ?? 0) + 1;
    return what;
  };
  for (let attempt = 0; attempt < 4; attempt++) {
    const client = cluster.client(token, spread + attempt);
    if (!client) {
      await sleep(100);
      continue;
    }
    try {
      const result = await client.orders.pay.mutate({
        orderId,
        ...(paymentMethodId ? { paymentMethodId } : {}),
      });
      answers.push({
        orderId,
        outcome: result.outcome,
        paymentIntentId: 'paymentIntentId' in result ? (result.paymentIntentId ?? undefined) : undefined,
      });
      return count(result.outcome);
    } catch (err) {
      const code =
        err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
      if (code === 'PAYMENT_REQUIRED') return count('declined');
      if (code) return count(`error ${code}`);
      // No tRPC answer: the connection died with the server (SIGKILL). Try another instance.
      count('connection lost');
      await sleep(50);
    }
  }
  return count('gave up');
}

/** The fields of an order to create, as the scenario plans them. */
export interface CreateInput {
  amount: number;
  currency: string;
  paymentMethodId: string;
}

/**
 * One logical create under its idempotency key, `copies` times at once through different live
 * instances. A copy whose calls all got no answer (its server died) tries another instance with
 * the same key, as a real service would: the key, not luck, keeps it one order. Resolves with the
 * order id the callers were told (undefined if none was).
 */
export async function createOnce(
  cluster: Cluster,
  token: string,
  key: string,
  input: CreateInput,
  copies: number,
  answers: CreateAnswer[],
  tally: Tally,
): Promise<string | undefined> {
  const count = (what: string) => {
    tally[what] = (tally[what] ?? 0) + 1;
  };
  const copy = async (spread: number): Promise<string | undefined> => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const client = cluster.client(token, spread + attempt);
      if (!client) {
        await sleep(100);
        continue;
      }
      try {
        const order = await client.orders.create.mutate({ ...input, idempotencyKey: key });
        answers.push({ key, orderId: order.id });
        count('created');
        return order.id;
      } catch (err) {
        const code =
          err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
        if (code) {
          count(`create error ${code}`);
          return undefined;
        }
        count('create connection lost');
        await sleep(50);
      }
    }
    count('create gave up');
    return undefined;
  };
  const told = await Promise.all(Array.from({ length: copies }, (_, i) => copy(i)));
  return told.find((id) => id !== undefined);
}
