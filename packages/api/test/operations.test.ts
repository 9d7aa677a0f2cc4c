import { randomUUID } from 'node:crypto';
import { setOperatorScopes, USER_SCOPES } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { trpcError, useApiEnv, visaOrder } from './support';

/**
 * The operators' procedures through createCaller on real PostgreSQL and the emulator: what awaits
 * an outcome is listed with its age, "recover" settles one row now (once: again is a no-op that
 * reports where it stands), "reconcile" records a run, every action leaves one audit row, a replay
 * under the caller's key executes nothing, and bad input changes nothing.
 */
const env = useApiEnv();

/** A user the admin granted `scopes` (every token of theirs carries them), and a caller for it. */
async function operator(
  scopes: Parameters<typeof setOperatorScopes>[2] = ['operations:read', 'operations:write'],
) {
  const user = await env.newUser('operator');
  await setOperatorScopes(env.db.db, user.id, scopes);
  return { ...user, api: env.caller(user.token).api };
}

const actions = async () =>
  (await env.db.sql<{ n: number }[]>`select count(*)::int as n from operator_actions`)[0]!.n;
const intentsOf = (orderId: string) =>
  env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId);

/** A customer's order whose pay met a provider outage before it executed: its attempt is stuck. */
async function stuckAttempt(): Promise<{ orderId: string; attemptId: string }> {
  const customer = env.caller((await env.newUser('customer')).token).api;
  const order = await customer.orders.create(visaOrder);
  env.emulator.setFaults([{ fault: 'error_before', operation: 'payment_intents.create', status: 503 }]);
  try {
    expect(await customer.orders.pay({ orderId: order.id })).toMatchObject({ outcome: 'processing' });
  } finally {
    env.emulator.clearFaults();
  }
  const { attempts } = await customer.orders.get({ orderId: order.id });
  return { orderId: order.id, attemptId: attempts[0]!.id };
}

describe('who may operate', () => {
  it('a customer holds no operator scope and is refused; whoami says what a token may do', async () => {
    const customer = await env.newUser('customer');
    const { api } = env.caller(customer.token);
    expect(await api.principal.whoami()).toEqual({
      kind: 'user',
      userId: customer.id,
      service: null,
      scopes: [...USER_SCOPES],
    });
    expect((await trpcError(api.operations.overview())).code).toBe('FORBIDDEN');
    const refused = await trpcError(api.operations.recover({ kind: 'attempt', id: randomUUID() }));
    expect(refused.message).toBe('This token does not have the operations:write scope.');
  });

  it('an operator granted operations:read sees the page but may not act', async () => {
    const reader = await operator(['operations:read']);
    expect((await reader.api.principal.whoami()).scopes).toEqual([...USER_SCOPES, 'operations:read']);
    await reader.api.operations.overview();
    const before = await actions();
    expect((await trpcError(reader.api.operations.reconcile())).code).toBe('FORBIDDEN');
    expect(await actions()).toBe(before);
  });
});

describe('operations.recover', () => {
  it('a stuck attempt is listed with its age; recover settles it once; again is already_final', async () => {
    const op = await operator();
    const { orderId, attemptId } = await stuckAttempt();
    const listed = (await op.api.operations.overview()).attempts.find((a) => a.id === attemptId);
    expect(listed).toMatchObject({ kind: 'attempt', orderId, status: 'processing', amount: 4200 });
    expect(listed!.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(intentsOf(orderId)).toEqual([]);

    expect(await op.api.operations.recover({ kind: 'attempt', id: attemptId })).toEqual({
      kind: 'attempt',
      id: attemptId,
      outcome: 'succeeded',
      orderId,
      status: 'succeeded',
    });
    expect(intentsOf(orderId).map((pi) => pi.status)).toEqual(['succeeded']);
    const requests = env.emulator.requestCount();
    expect(await op.api.operations.recover({ kind: 'attempt', id: attemptId })).toMatchObject({
      outcome: 'already_final',
      status: 'succeeded',
    });
    // Nothing was asked of the provider the second time, and nothing charged twice.
    expect(env.emulator.requestCount()).toBe(requests);
    expect(intentsOf(orderId)).toHaveLength(1);
    const overview = await op.api.operations.overview();
    expect(overview.attempts.map((a) => a.id)).not.toContain(attemptId);
    expect(overview.actions.filter((a) => a.target === attemptId)).toEqual([
      expect.objectContaining({
        principal: `user:${op.id}`,
        action: 'recover_attempt',
        result: 'already_final',
      }),
      expect.objectContaining({ principal: `user:${op.id}`, action: 'recover_attempt', result: 'succeeded' }),
    ]);
  });

  it('under one idempotency key it runs once: the replay is the same answer and no second action', async () => {
    const op = await operator();
    const { attemptId } = await stuckAttempt();
    const call = { kind: 'attempt' as const, id: attemptId, idempotencyKey: randomUUID() };
    const first = await op.api.operations.recover(call);
    const before = await actions();
    expect(await op.api.operations.recover(call)).toEqual(first);
    expect(await actions()).toBe(before);
    const reused = await trpcError(op.api.operations.recover({ ...call, kind: 'refund' }));
    expect(reused.code).toBe('UNPROCESSABLE_CONTENT');
    expect(await actions()).toBe(before);
  });

  it('an unknown id, or an id of another kind, is NOT_FOUND and records nothing; a wrong kind is BAD_REQUEST', async () => {
    const op = await operator();
    const { attemptId } = await stuckAttempt();
    const before = await actions();
    for (const target of [
      { kind: 'refund' as const, id: attemptId },
      { kind: 'capture' as const, id: attemptId },
      { kind: 'attempt' as const, id: randomUUID() },
    ]) {
      const refused = await trpcError(op.api.operations.recover(target));
      expect(refused).toMatchObject({
        code: 'NOT_FOUND',
        message: `No such ${target.kind}; nothing was changed.`,
      });
    }
    const wrongKind = await trpcError(op.api.operations.recover({ kind: 'order' as never, id: attemptId }));
    expect(wrongKind.code).toBe('BAD_REQUEST');
    expect(await actions()).toBe(before);
    // Still stuck: nothing was driven.
    expect((await op.api.operations.overview()).attempts.map((a) => a.id)).toContain(attemptId);
  });

  it('an attempt a recovery worker holds is answered busy and not driven alongside it', async () => {
    const op = await operator();
    const { orderId, attemptId } = await stuckAttempt();
    await env.db
      .sql`update payment_attempts set lease_until = now() + interval '1 minute' where id = ${attemptId}`;
    const requests = env.emulator.requestCount();
    expect(await op.api.operations.recover({ kind: 'attempt', id: attemptId })).toMatchObject({
      outcome: 'busy',
      status: 'processing',
    });
    expect(env.emulator.requestCount()).toBe(requests);
    expect(intentsOf(orderId)).toEqual([]);
  });

  it('a press met by the outage answers unknown and lets go of its lease: the next press settles it', async () => {
    const op = await operator();
    const { orderId, attemptId } = await stuckAttempt();
    env.emulator.setFaults([{ fault: 'error_before', operation: 'payment_intents.create', status: 503 }]);
    const down = await op.api.operations
      .recover({ kind: 'attempt', id: attemptId })
      .finally(() => env.emulator.clearFaults());
    expect(down).toMatchObject({ outcome: 'unknown', status: 'processing' });
    // The provider is back: at once (well within leaseMs), the operator's own press is no "busy".
    expect(await op.api.operations.recover({ kind: 'attempt', id: attemptId })).toMatchObject({
      outcome: 'succeeded',
      status: 'succeeded',
    });
    expect(intentsOf(orderId).map((pi) => pi.status)).toEqual(['succeeded']);
  });

  it('a refund left pending by an outage, and a capture, are recovered the same way', async () => {
    const op = await operator();
    const customer = env.caller((await env.newUser('customer')).token).api;
    const paid = await customer.orders.create(visaOrder);
    await customer.orders.pay({ orderId: paid.id });
    env.emulator.setFaults([{ fault: 'error_before', operation: 'refunds.create', status: 503 }]);
    const refund = await customer.orders
      .refund({ orderId: paid.id })
      .finally(() => env.emulator.clearFaults());
    expect(refund.outcome).toBe('pending');
    expect((await op.api.operations.overview()).refunds.map((r) => r.id)).toContain(refund.refund.id);
    expect(await op.api.operations.recover({ kind: 'refund', id: refund.refund.id })).toMatchObject({
      outcome: 'succeeded',
      status: 'succeeded',
    });

    const merchant = env.caller((await env.newService(['orders:read', 'orders:capture'])).token).api;
    const held = await customer.orders.create({ ...visaOrder, captureMethod: 'manual' });
    expect(await customer.orders.pay({ orderId: held.id })).toMatchObject({ outcome: 'authorized' });
    env.emulator.setFaults([{ fault: 'error_before', operation: 'payment_intents.capture', status: 503 }]);
    const capture = await merchant.orders
      .capture({ orderId: held.id })
      .finally(() => env.emulator.clearFaults());
    expect(capture.outcome).toBe('pending');
    const pending = (await op.api.operations.overview()).captures.find((c) => c.orderId === held.id);
    expect(pending).toMatchObject({ kind: 'capture', status: 'capture' });
    expect(await op.api.operations.recover({ kind: 'capture', id: pending!.id })).toMatchObject({
      outcome: 'settled',
      status: 'succeeded',
    });
    expect(intentsOf(held.id).map((pi) => pi.status)).toEqual(['succeeded']);
  });
});

describe('operations.reconcile', () => {
  it('reconciles now and records the run, findings included, for the overview of any instance', async () => {
    const op = await operator();
    // A charge no order accounts for: an unexplained finding.
    const stray = randomUUID();
    await env.deps.payments.gateway.charge({
      ...visaOrder,
      paymentMethodId: 'pm_card_visa',
      idempotencyKey: `stray-${stray}`,
      captureMethod: 'automatic',
      returnUrl: null,
      metadata: { order_id: stray },
    });
    const { run } = await op.api.operations.reconcile({ idempotencyKey: randomUUID() });
    expect(run).toMatchObject({ trigger: 'operator', requestedBy: `user:${op.id}`, outcome: 'completed' });
    expect(run.findings).toContainEqual(expect.objectContaining({ kind: 'orphan', orderId: stray }));
    expect(run.unexplained).toBeGreaterThanOrEqual(1);
    const overview = await op.api.operations.overview();
    expect(overview.reconciliations[0]).toEqual(run);
    expect(overview.actions[0]).toMatchObject({
      action: 'reconcile',
      result: expect.stringMatching(/^completed: /),
    });
  });
  const runs = async () =>
    (await env.db.sql<{ n: number }[]>`select count(*)::int as n from reconciliation_runs`)[0]!.n;

  it('a window past 7 days (or under a minute) is BAD_REQUEST and records nothing', async () => {
    const op = await operator();
    const [actionsBefore, runsBefore] = [await actions(), await runs()];
    for (const windowMs of [7 * 24 * 60 * 60_000 + 1, 31 * 24 * 60 * 60_000, 59_999]) {
      const refused = await trpcError(
        op.api.operations.reconcile({ windowMs, idempotencyKey: randomUUID() }),
      );
      expect(refused.code).toBe('BAD_REQUEST');
    }
    expect([await actions(), await runs()]).toEqual([actionsBefore, runsBefore]);
    const { run } = await op.api.operations.reconcile({ windowMs: 7 * 24 * 60 * 60_000 });
    expect(run.outcome).toBe('completed');
  });

  it('one at a time in a process: a second request while one runs is RECONCILIATION_RUNNING, retryable', async () => {
    const op = await operator();
    // The first run's listing is held at the provider, so the second arrives while it runs.
    env.emulator.setFaults([{ fault: 'latency', operation: 'payment_intents.list', ms: 1_000, times: 1 }]);
    const held = env.emulator.faultsApplied();
    const [actionsBefore, runsBefore] = [await actions(), await runs()];
    try {
      const first = op.api.operations.reconcile({ idempotencyKey: randomUUID() });
      await expect.poll(() => env.emulator.faultsApplied()).toBeGreaterThan(held);
      const secondKey = randomUUID();
      const refused = await trpcError(op.api.operations.reconcile({ idempotencyKey: secondKey }));
      expect(refused).toMatchObject({ code: 'CONFLICT', cause: { code: 'RECONCILIATION_RUNNING' } });
      expect(refused.message).toMatch(/still running on this instance; nothing was started/);
      // Nothing recorded for the refused one: only the first's audit row, no run yet.
      expect([await actions(), await runs()]).toEqual([actionsBefore + 1, runsBefore]);
      expect((await first).run.outcome).toBe('completed');
      // Retryable: the refused request's key was let go, so the same request now runs.
      const { run } = await op.api.operations.reconcile({ idempotencyKey: secondKey });
      expect(run.outcome).toBe('completed');
      expect([await actions(), await runs()]).toEqual([actionsBefore + 2, runsBefore + 2]);
    } finally {
      env.emulator.clearFaults();
    }
  });
});
