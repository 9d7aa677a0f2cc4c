import { TRPCClientError } from '@chargeonce/client';
import type { Cluster } from './cluster';
import type { PayAnswer } from './invariants';
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
