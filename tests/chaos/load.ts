import { type ChargeonceClient, newIdempotencyKey, TRPCClientError } from '@chargeonce/client';
import type { Cluster } from './cluster';
import type { CreateAnswer, PayAnswer } from './invariants';
import { type OrderPlan, VISA } from './scenario';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Tally of what payers heard, for the log (invariants use the answers themselves). */
export type Tally = Record<string, number>;

export const count = (tally: Tally, what: string) => {
  tally[what] = (tally[what] ?? 0) + 1;
  return what;
};

/** The code of a typed (tRPC) error answer — the domain's when there is one; undefined: no answer. */
export function answerCode(err: unknown): string | undefined {
  if (!(err instanceof TRPCClientError)) return undefined;
  const data = err.data as { code?: string; domainCode?: string | null } | undefined;
  return data?.domainCode ?? data?.code;
}

/**
 * A caller told DATABASE_UNAVAILABLE asks again with the same key after the answer's `retryAfterMs`,
 * at most this many times per call (the outages of --db-faults last seconds): the typed client
 * already did a few times, and the database is still not back.
 */
const DATABASE_RETRIES = 30;

/** An answer that asks for the same request again later: DATABASE_UNAVAILABLE's `retryAfterMs`. */
export function databaseRetryAfterMs(err: unknown): number | undefined {
  if (answerCode(err) !== 'DATABASE_UNAVAILABLE') return undefined;
  const data = (err as TRPCClientError<never>).data as { retryAfterMs?: number } | undefined;
  return data?.retryAfterMs ?? 1000;
}

/** Another call racing one phase of an order's pays: `offsetMs` after them (negative: before). */
export interface Alongside {
  phase: 'pay' | 'repay';
  offsetMs: number;
  run: () => Promise<void>;
}

/**
 * Pays one order as its plan says: `copies` concurrent pays through different live instances,
 * then, after a decline, `repayCopies` pays with another card. A pay whose server died under it
 * is retried on another live one, as a real client would (paying twice is safe: that is the point).
 * `alongside` races the phase it names; without re-pays, its `repay` phase runs alone after the first.
 */
export async function payPlan(
  cluster: Cluster,
  token: string,
  orderId: string,
  plan: OrderPlan,
  answers: PayAnswer[],
  tally: Tally,
  alongside?: Alongside,
): Promise<void> {
  const phase = async (name: Alongside['phase'], copies: number, card: string | undefined) => {
    const other = alongside?.phase === name ? alongside : undefined;
    const [told] = await Promise.all([
      sleep(-(other?.offsetMs ?? 0)).then(() =>
        Promise.all(
          Array.from({ length: copies }, (_, i) => pay(cluster, token, orderId, i, card, answers, tally)),
        ),
      ),
      other && sleep(other.offsetMs).then(other.run),
    ]);
    return told;
  };
  const first = await phase('pay', plan.copies, undefined);
  await phase('repay', plan.repayCopies > 0 && first.includes('declined') ? plan.repayCopies : 0, VISA);
}

/**
 * One pay of an order, retried on another live instance when its server died under it (with a new
 * key: the first request may still run), and with its key after DATABASE_UNAVAILABLE.
 */
export async function pay(
  cluster: Cluster,
  token: string,
  orderId: string,
  spread: number,
  paymentMethodId: string | undefined,
  answers: PayAnswer[],
  tally: Tally,
): Promise<string> {
  let key = newIdempotencyKey();
  let databaseRetries = 0;
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
        idempotencyKey: key,
      });
      answers.push({
        orderId,
        outcome: result.outcome,
        paymentIntentId: 'paymentIntentId' in result ? (result.paymentIntentId ?? undefined) : undefined,
      });
      return count(tally, result.outcome);
    } catch (err) {
      const code =
        err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
      const retryAfterMs = databaseRetryAfterMs(err);
      if (retryAfterMs !== undefined && databaseRetries++ < DATABASE_RETRIES) {
        count(tally, 'retry DATABASE_UNAVAILABLE');
        await sleep(retryAfterMs);
        attempt--;
        continue;
      }
      if (code === 'PAYMENT_REQUIRED') {
        answers.push({ orderId, outcome: 'declined', paymentIntentId: undefined, paymentMethodId });
        return count(tally, 'declined');
      }
      if (code) return count(tally, `error ${answerCode(err)}`);
      // No tRPC answer: the connection died with the server (SIGKILL). Try another instance.
      count(tally, 'connection lost');
      key = newIdempotencyKey();
      await sleep(50);
    }
  }
  return count(tally, 'gave up');
}

/** The fields of an order to create, as the scenario plans them. */
export interface CreateInput {
  amount: number;
  currency: string;
  paymentMethodId: string;
}

/**
 * One logical mutation under its caller key (`call` sends it with the key), `copies` times at once
 * through different live instances. A copy whose calls all got no answer (its server died) tries
 * another instance with the same key, as a real service would: the key, not luck, keeps it one
 * request; so does one told DATABASE_UNAVAILABLE, after its `retryAfterMs`. Resolves with what each
 * copy was told (undefined: an error answer, or none).
 */
export async function keyedCall<T>(
  cluster: Cluster,
  token: string,
  what: string,
  copies: number,
  call: (client: ChargeonceClient) => Promise<T>,
  tally: Tally,
): Promise<(T | undefined)[]> {
  const copy = async (spread: number): Promise<T | undefined> => {
    let databaseRetries = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      const client = cluster.client(token, spread + attempt);
      if (!client) {
        await sleep(100);
        continue;
      }
      try {
        return await call(client);
      } catch (err) {
        const code = answerCode(err);
        const retryAfterMs = databaseRetryAfterMs(err);
        if (retryAfterMs !== undefined && databaseRetries++ < DATABASE_RETRIES) {
          count(tally, `${what} retry DATABASE_UNAVAILABLE`);
          await sleep(retryAfterMs);
          attempt--;
          continue;
        }
        if (code) {
          count(tally, `${what} error ${code}`);
          return undefined;
        }
        count(tally, `${what} connection lost`);
        await sleep(50);
      }
    }
    count(tally, `${what} gave up`);
    return undefined;
  };
  return Promise.all(Array.from({ length: copies }, (_, i) => copy(i)));
}

/**
 * One logical create under its idempotency key, `copies` times at once (see `keyedCall`).
 * Resolves with the order id the callers were told (undefined if none was).
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
  const told = await keyedCall(
    cluster,
    token,
    'create',
    copies,
    async (client) => {
      const order = await client.orders.create.mutate({ ...input, idempotencyKey: key });
      answers.push({ key, orderId: order.id });
      count(tally, 'created');
      return order.id;
    },
    tally,
  );
  return told.find((id) => id !== undefined);
}
