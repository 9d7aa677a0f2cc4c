import { randomUUID } from 'node:crypto';
import { setOperatorScopes } from '@chargeonce/db';
import { DEFAULT_RECOVERY_POLICY, isDomainError, runRecovery } from '@chargeonce/payments';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { useApiEnv, visaOrder } from './support';

/**
 * An operator's Recover, the recovery worker and the payer's own request, all at once on one
 * attempt while the payer's create is still held at the provider: the attempt's one idempotency
 * key and the lease keep it to one PaymentIntent, each executed action leaves one audit row, and
 * the payer hears the truth (charged, or processing until the outcome is known), never a decline.
 */
const env = useApiEnv();
/** Long enough for the lease, the repeat of the create and the worker to all meet the held create. */
const HOLD_MS = 600;
const ROUNDS = 4;

const intentsOf = (orderId: string) =>
  env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId);
const answerOf = (call: Promise<{ outcome: string }>) =>
  call.then(
    (r) => r.outcome,
    (err: unknown) =>
      err instanceof TRPCError && isDomainError(err.cause)
        ? `error ${err.cause.code}`
        : `error ${String(err)}`,
  );

async function operatorApi() {
  const user = await env.newUser('operator');
  await setOperatorScopes(env.db.db, user.id, ['operations:read', 'operations:write']);
  return env.caller(user.token).api;
}

/** A customer's pay whose create the emulator holds; resolves once the create is being held. */
async function heldPay() {
  const customer = env.caller((await env.newUser('customer')).token).api;
  const order = await customer.orders.create(visaOrder);
  env.emulator.setFaults([
    {
      fault: 'latency',
      operation: 'payment_intents.create',
      ms: HOLD_MS,
      metadata: { order_id: order.id },
      times: 1,
    },
  ]);
  const before = env.emulator.faultsApplied();
  const pay = answerOf(customer.orders.pay({ orderId: order.id }));
  await expect.poll(() => env.emulator.faultsApplied(), { timeout: 5_000 }).toBeGreaterThan(before);
  const [attempt] = await env.db.sql<
    { id: string }[]
  >`select id from payment_attempts where order_id = ${order.id}`;
  return { orderId: order.id, attemptId: attempt!.id, pay, customer };
}

const auditRows = (attemptId: string) =>
  env.db.sql<{ result: string }[]>`select result from operator_actions where target = ${attemptId}`;

describe('Recover, the recovery worker and the pay, concurrently on one held attempt', () => {
  it('one PaymentIntent, one audit row per action, and the payer hears charged or processing', async () => {
    const operator = await operatorApi();
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { orderId, attemptId, pay, customer } = await heldPay();
      const recover = answerOf(
        operator.operations.recover({ kind: 'attempt', id: attemptId, idempotencyKey: randomUUID() }),
      );
      // Even rounds start the worker at once (it usually leases first); odd rounds once the
      // operator's press is on record, just before it leases (it usually wins the lease then).
      if (round % 2 === 1) await expect.poll(async () => (await auditRows(attemptId)).length).toBe(1);
      const [recovered, worker, paid] = await Promise.all([
        recover,
        runRecovery(env.deps.payments, { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 }),
        pay,
      ]).finally(() => env.emulator.clearFaults());
      outcomes.push(recovered);
      expect(['charged', 'processing'], `round ${round}: the pay answered ${paid}`).toContain(paid);
      expect(recovered, `round ${round}`).not.toMatch(/^error/);
      expect(worker.results.failed).toBe(0);
      // The operator's one press is one audit row, with its result.
      expect(await auditRows(attemptId)).toEqual([{ result: recovered }]);
      // Whatever answered first, the order ends paid, charged once.
      await expect
        .poll(async () => {
          await runRecovery(env.deps.payments, { ...DEFAULT_RECOVERY_POLICY, graceMs: 0, leaseMs: 1 });
          return (await customer.orders.get({ orderId })).order.status;
        })
        .toBe('paid');
      expect(intentsOf(orderId).map((pi) => pi.status)).toEqual(['succeeded']);
    }
    // The operator's press did reach the provider beside the held create at least once (its
    // repeat of the create met the held one: unknown), not only "busy" behind the worker's lease.
    expect(
      outcomes.some((o) => o !== 'busy'),
      outcomes.join(', '),
    ).toBe(true);
  });

  it('the harness sees a second charge: a re-drive under a fresh key beside the held pay makes two', async () => {
    const { orderId, pay } = await heldPay();
    // The broken re-drive: the attempt's key forgotten, so nothing dedupes it at the provider.
    const naive = await env.deps.payments.gateway.charge({
      ...visaOrder,
      idempotencyKey: `naive-${randomUUID()}`,
      captureMethod: 'automatic',
      returnUrl: null,
      metadata: { order_id: orderId },
    });
    env.emulator.clearFaults();
    expect(naive.kind).toBe('succeeded');
    expect(await pay).toBe('charged');
    expect(intentsOf(orderId).filter((pi) => pi.status === 'succeeded')).toHaveLength(2);
  });
});
