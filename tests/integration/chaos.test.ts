import { type ChildProcess, spawn } from 'node:child_process';
import type { EmulatedPaymentIntent, EmulatedRefund } from '@chargeonce/stripe-emulator';
import { afterAll, describe, expect, it } from 'vitest';
import { audit, auditCreates, type OrderRow } from '../chaos/invariants';
import { auditCancels, auditRefunds, type RefundRow } from '../chaos/refund-invariants';
import { REPO_ROOT } from '../support/processes';

/**
 * A short `pnpm chaos` run: a few seeded scenarios of concurrent pays, cancels and refunds under
 * provider faults, duplicate/reordered webhooks and SIGKILLed servers, audited against the
 * provider's ledger.
 * The seed is fixed so a failure here replays with `pnpm chaos -- --seed <seed> --runs 1`.
 */
const SEED = 7;
const RUNS = 3;

let child: ChildProcess | undefined;
afterAll(() => {
  // The harness stops every process it started on SIGTERM.
  if (child && child.exitCode === null) child.kill('SIGTERM');
});

it('pnpm chaos: no duplicate, lost, stuck or mismatched payment, no over-refund, no charged cancel', {
  timeout: 300_000,
}, async () => {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      'tests/chaos/main.ts',
      '--',
      '--runs',
      String(RUNS),
      '--seed',
      String(SEED),
      '--json',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => {
    stdout += d;
  });
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  // The harness's log (stderr) names the scenario and its replay command when anything fails.
  expect({ code, log: code === 0 ? '' : stderr }).toEqual({ code: 0, log: '' });
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  expect(Object.keys(summary)).toEqual([
    'runs',
    'seed',
    'kills',
    'faults',
    'orders',
    'creates',
    'dropped',
    'paid',
    'provider_succeeded',
    'duplicates',
    'lost',
    'stuck',
    'mismatches',
    'duplicate_orders',
    'lost_orders',
    'refunds',
    'refunds_succeeded',
    'provider_refunded',
    'over_refunds',
    'refunds_stuck',
    'cancels',
    'canceled',
    'charged_canceled',
  ]);
  expect(summary).toMatchObject({
    runs: RUNS,
    seed: SEED,
    duplicates: 0,
    lost: 0,
    stuck: 0,
    mismatches: 0,
    duplicate_orders: 0,
    lost_orders: 0,
    over_refunds: 0,
    refunds_stuck: 0,
    charged_canceled: 0,
  });
  // The client-side fault ran: answers were dropped, and every logical create still made one order.
  expect(summary.dropped).toBeGreaterThan(0);
  expect(summary.creates).toBeGreaterThan(summary.orders);
  expect(summary.kills).toBeGreaterThan(0);
  expect(summary.faults).toBeGreaterThan(0);
  expect(summary.paid).toBeGreaterThan(0);
  expect(summary.provider_succeeded).toBe(summary.paid);
  // The mix ran: refunds went through (and were audited), cancels raced pays.
  expect(summary.refunds).toBeGreaterThan(0);
  expect(summary.refunds_succeeded).toBeGreaterThan(0);
  expect(summary.provider_refunded).toBeGreaterThan(0);
  expect(summary.cancels).toBeGreaterThan(0);
});

it('the create audit catches what keys prevent: an order made again, a caller told of another', () => {
  const keys = new Set(['k1', 'k2']);
  const clean = auditCreates(
    keys,
    [
      { id: 'o1', key: 'k1' },
      { id: 'o2', key: 'k2' },
    ],
    [{ key: 'k1', orderId: 'o1' }],
  );
  expect([clean.duplicateOrders, clean.lostOrders]).toEqual([0, 0]);
  // A retried create without its key: a second order; its caller told of the second one.
  const naive = auditCreates(
    keys,
    [
      { id: 'o1', key: 'k1' },
      { id: 'o3', key: null },
    ],
    [{ key: 'k1', orderId: 'o3' }],
  );
  expect([naive.duplicateOrders, naive.lostOrders]).toEqual([1, 1]);
});

describe('the refund and cancel audits catch what reservations and keys prevent', () => {
  const order = (id: string, over: Partial<OrderRow> = {}): OrderRow => ({
    id,
    status: 'paid',
    payment_intent_id: `pi_${id}`,
    amount: 1000,
    currency: 'usd',
    refunded_amount: 0,
    ...over,
  });
  const intent = (orderId: string, status = 'succeeded'): EmulatedPaymentIntent => ({
    id: `pi_${orderId}`,
    amount: 1000,
    currency: 'usd',
    status,
    payment_method: 'pm_card_visa',
    metadata: { order_id: orderId },
    created: 0,
    idempotency_key: `key-${orderId}`,
    last_payment_error: null,
  });
  const atProvider = (id: string, orderId: string, amount: number, refundId: string): EmulatedRefund => ({
    id,
    amount,
    currency: 'usd',
    status: 'succeeded',
    payment_intent: `pi_${orderId}`,
    charge: `ch_${orderId}`,
    reason: null,
    failure_reason: null,
    metadata: { order_id: orderId, refund_id: refundId },
    created: 0,
    idempotency_key: `chargeonce-refund-${refundId}`,
  });
  const row = (id: string, orderId: string, amount: number, over: Partial<RefundRow> = {}): RefundRow => ({
    id,
    order_id: orderId,
    amount,
    status: 'succeeded',
    stripe_refund_id: `re_${id}`,
    key: `k-${id}`,
    ...over,
  });
  const keys = new Set(['k-r1', 'k-r2']);

  it('passes a consistent state: a partial refund, a failed one, its caller told of it', () => {
    const result = auditRefunds(
      [order('o1', { status: 'partially_refunded', refunded_amount: 400 })],
      [row('r1', 'o1', 400), row('r2', 'o1', 600, { status: 'failed' })],
      [intent('o1')],
      [atProvider('re_r1', 'o1', 400, 'r1'), { ...atProvider('re_r2', 'o1', 600, 'r2'), status: 'failed' }],
      keys,
      [{ key: 'k-r1', orderId: 'o1', outcome: 'refunded', refundId: 'r1', amount: 400, asked: 400 }],
    );
    expect(result.violations).toMatchObject({ overRefunds: 0, refundsStuck: 0, mismatches: 0 });
    expect([result.refundsSucceeded, result.providerRefunded]).toEqual([1, 400]);
  });

  it('passes a key let go by a refund that never executed, and the retry made under it', () => {
    const result = auditRefunds(
      [order('o1', { status: 'refunded', refunded_amount: 1000 })],
      [row('r0', 'o1', 1000, { status: 'failed', stripe_refund_id: null, key: null }), row('r1', 'o1', 1000)],
      [intent('o1')],
      [atProvider('re_r1', 'o1', 1000, 'r1')],
      keys,
      [
        { key: 'k-r1', orderId: 'o1', outcome: 'pending', refundId: 'r0', amount: 1000, asked: null },
        { key: 'k-r1', orderId: 'o1', outcome: 'refunded', refundId: 'r1', amount: 1000, asked: null },
      ],
    );
    expect(result.violations).toMatchObject({ overRefunds: 0, refundsStuck: 0, mismatches: 0 });
    // Money moved without a key is not that.
    const keyless = auditRefunds(
      [order('o1', { status: 'refunded', refunded_amount: 1000 })],
      [row('r1', 'o1', 1000, { key: null })],
      [intent('o1')],
      [atProvider('re_r1', 'o1', 1000, 'r1')],
      keys,
      [],
    );
    expect(keyless.violations.overRefunds).toBe(1);
  });

  it('a double refund: the provider refunded twice what the database recorded once', () => {
    const result = auditRefunds(
      [order('o1', { status: 'refunded', refunded_amount: 1000 })],
      [row('r1', 'o1', 1000)],
      [intent('o1')],
      // A retry sent without the refund's key: a second refund the database never heard of.
      [atProvider('re_r1', 'o1', 1000, 'r1'), atProvider('re_x', 'o1', 1000, 'r1')],
      keys,
      [],
    );
    expect(result.violations.overRefunds).toBe(1);
    expect(result.details.join('\n')).toMatch(/provider refunded 2000 of 1000/);
  });

  it('one refund request made twice, and a reservation that does not add up', () => {
    // The same caller key, two refunds (no key check): each recorded and refunded, under the amount.
    const twice = auditRefunds(
      [order('o1', { status: 'partially_refunded', refunded_amount: 600 })],
      [row('r1', 'o1', 300), row('r3', 'o1', 300, { key: 'k-r1' })],
      [intent('o1')],
      [atProvider('re_r1', 'o1', 300, 'r1'), atProvider('re_r3', 'o1', 300, 'r3')],
      keys,
      [{ key: 'k-r1', orderId: 'o1', outcome: 'refunded', refundId: 'r3', amount: 300, asked: 300 }],
    );
    expect(twice.violations.overRefunds).toBe(1);
    expect(twice.details.join('\n')).toMatch(/refund k-r1 made 2 refunds/);
    // A failed refund whose reservation was never given back.
    const leaked = auditRefunds(
      [order('o1', { status: 'refunded', refunded_amount: 1000 })],
      [row('r1', 'o1', 1000, { status: 'failed' })],
      [intent('o1')],
      [{ ...atProvider('re_r1', 'o1', 1000, 'r1'), status: 'failed' }],
      keys,
      [],
    );
    expect(leaked.violations.overRefunds).toBe(1);
  });

  it('a stuck refund, and a caller told of a refund that is not its own', () => {
    const result = auditRefunds(
      [order('o1', { status: 'partially_refunded', refunded_amount: 500 })],
      [row('r1', 'o1', 500, { status: 'pending', stripe_refund_id: null })],
      [intent('o1')],
      [],
      keys,
      [{ key: 'k-r2', orderId: 'o1', outcome: 'pending', refundId: 'r1', amount: 500, asked: null }],
    );
    expect(result.violations).toMatchObject({ refundsStuck: 1, mismatches: 1, overRefunds: 0 });
  });

  it('a charge on a canceled order, and a canceler told canceled of an order that was paid', () => {
    const orders = [order('o1', { status: 'canceled', payment_intent_id: null }), order('o2')];
    const ledger = [intent('o1'), intent('o2')];
    const answers = [
      { key: 'c1', orderId: 'o1', outcome: 'canceled' as const },
      { key: 'c2', orderId: 'o2', outcome: 'already_canceled' as const },
    ];
    const result = auditCancels(orders, ledger, answers);
    expect(result.violations).toMatchObject({ chargedCanceled: 1, mismatches: 1 });
    expect(result.canceled).toBe(1);
    // The payment audit leaves that charge to the cancel audit (not also `lost`).
    expect(audit(orders, [], ledger, []).violations).toMatchObject({ lost: 0, mismatches: 0 });
    const clean = auditCancels(orders, [intent('o1', 'canceled'), intent('o2')], answers.slice(0, 1));
    expect(clean.violations).toMatchObject({ chargedCanceled: 0, mismatches: 0 });
  });
});
