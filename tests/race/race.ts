/**
 * `pnpm race -- [--op pay|create|refund|cancel-vs-pay|capture-vs-void] ...` (see `--help`)
 *
 * Starts PostgreSQL (embedded, throwaway), the Stripe emulator and K server processes on one
 * database, and fires concurrent calls spread over the instances through `@chargeonce/client`:
 * - `--op pay` (default): N `orders.pay` of one order paid with `--card`; counts outcomes
 *   (`declined`: callers told the typed decline) and the PaymentIntents the provider made. Exit
 *   status 1 unless exactly one PaymentIntent exists for the order.
 * - `--op create`: N `orders.create` with one idempotency key (a caller retrying one create N
 *   times at once); counts the orders made and the answers that were replays. Exit status 1
 *   unless exactly one order was made and every other call was answered with its replay.
 * - `--op refund`: N `orders.refund` of one paid order, full or 1/P each (`refund.ts`).
 * - `--op cancel-vs-pay`: T trials of one pay and one cancel of a fresh order (`cancel-vs-pay.ts`).
 * - `--op capture-vs-void`: T trials of one capture and one void of a fresh authorized order
 *   (`capture-vs-void.ts`); `--naive` runs them through naive check-then-act code, which must fail.
 */

import { randomUUID } from 'node:crypto';
import { integerFlag, parseCommandLine, usageError } from '@chargeonce/cli';
import { type IdempotencyReceipt, TRPCClientError } from '@chargeonce/client';
import { type Stack, startStack } from '../support/stack';
import { raceCancelVsPay } from './cancel-vs-pay';
import { raceCaptureVsVoid } from './capture-vs-void';
import { raceRefund } from './refund';
import {
  ORDER_AMOUNT,
  PARALLEL_TRIALS,
  type Race,
  reasonOf,
  TRIAL_JITTER_MS,
  TRIAL_LATENCY_MS,
} from './shared';

const cli = {
  usage: `usage: pnpm race -- [--op pay|create|refund|cancel-vs-pay|capture-vs-void] [--clicks N]
                    [--instances K] [--card pm_...] [--partial-of P] [--refund-delay-ms D]
                    [--trials T] [--naive] [--latency-ms L] [--json]
  --op pay            concurrent orders.pay calls on one order (the default)
  --op create         concurrent orders.create calls with one idempotency key
  --op refund         one order, paid first, then concurrent orders.refund calls on it, each its
                      own request and idempotency key: full refunds, or 1/P each with --partial-of
  --op cancel-vs-pay  per trial a fresh order, then one orders.pay and one orders.cancel in flight
                      together: fired 0-${TRIAL_JITTER_MS} ms apart in random order, on two instances
                      when K > 1; ${PARALLEL_TRIALS} trials at a time
  --op capture-vs-void
                      per trial a fresh order with captureMethod manual, paid (authorized), then one
                      orders.capture and one orders.void by a service with orders:capture, in flight
                      together as in cancel-vs-pay; each order is checked against its PaymentIntent
  --clicks N          concurrent calls: pay, create, refund (default 200)
  --instances K       server processes sharing one database (default 3)
  --card pm_...       the order's payment method, e.g. pm_card_chargeDeclined: pay, create, refund
                      (default pm_card_visa)
  --partial-of P      refund: each call refunds ${ORDER_AMOUNT}/P of the ${ORDER_AMOUNT} order; P must divide
                      ${ORDER_AMOUNT} and be at most N (default: full refunds)
  --refund-delay-ms D refund: how long the emulator keeps a pm_card_pendingRefund refund pending
                      (and a pm_card_refundFail one succeeded) before it settles (default 1000)
  --trials T          cancel-vs-pay, capture-vs-void: trials, each on a fresh order (default 200)
  --naive             capture-vs-void: the harness's self-check: capture and void by naive
                      check-then-act code (tests/race/naive-capture.ts), not chargeonce; must fail
  --latency-ms L      Stripe emulator latency per request (default 0; cancel-vs-pay and
                      capture-vs-void ${TRIAL_LATENCY_MS}, so the second call can meet the first in flight)
  --json              the last line is one JSON object with the counts
Exit status 1 unless exactly one PaymentIntent exists for the order (pay); exactly one order was
made and every other call replayed it (create); exactly one refund (P with --partial-of) succeeded,
every other call was refused, and the database's refunded_amount and the provider's succeeded
refunds both equal the order's amount (refund); every trial had exactly one winner, canceled with
no PaymentIntent or paid with one (cancel-vs-pay); every trial had exactly one winner, paid with
its PaymentIntent captured in full or canceled with it canceled, and the provider's captures equal
the captured orders (capture-vs-void). Exit status 2 on a bad command line.`,
  options: {
    op: { type: 'string', default: 'pay' },
    clicks: { type: 'string' },
    instances: { type: 'string', default: '3' },
    'latency-ms': { type: 'string' },
    card: { type: 'string' },
    'partial-of': { type: 'string' },
    'refund-delay-ms': { type: 'string' },
    trials: { type: 'string' },
    naive: { type: 'boolean' },
    json: { type: 'boolean', default: false },
  },
} as const;
const OPS = ['pay', 'create', 'refund', 'cancel-vs-pay', 'capture-vs-void'] as const;
/** The flags only some ops take: any other op refuses them. */
const ONLY_FOR: Partial<Record<keyof typeof cli.options, readonly (typeof OPS)[number][]>> = {
  clicks: ['pay', 'create', 'refund'],
  card: ['pay', 'create', 'refund'],
  'partial-of': ['refund'],
  'refund-delay-ms': ['refund'],
  trials: ['cancel-vs-pay', 'capture-vs-void'],
  naive: ['capture-vs-void'],
};
const values = parseCommandLine(cli);
const op = OPS.find((o) => o === values.op);
if (!op) usageError(cli, `--op must be one of ${OPS.join('|')} (got ${JSON.stringify(values.op)})`);
for (const [flag, ops] of Object.entries(ONLY_FOR)) {
  if (values[flag as keyof typeof values] !== undefined && !ops.includes(op)) {
    usageError(cli, `--${flag} is for --op ${ops.join('|')}, not --op ${op}`);
  }
}
const clicks = integerFlag(cli, 'clicks', values.clicks ?? '200', { min: 1, max: 10_000 });
const instances = integerFlag(cli, 'instances', values.instances, { min: 1, max: 16 });
const defaultLatency = op === 'cancel-vs-pay' || op === 'capture-vs-void' ? TRIAL_LATENCY_MS : 0;
const latencyMs = integerFlag(cli, 'latency-ms', values['latency-ms'] ?? String(defaultLatency), {
  min: 0,
  max: 60_000,
});
const refundDelayMs =
  values['refund-delay-ms'] === undefined
    ? undefined
    : integerFlag(cli, 'refund-delay-ms', values['refund-delay-ms'], { min: 0, max: 86_400_000 });
const trials = integerFlag(cli, 'trials', values.trials ?? '200', { min: 1, max: 10_000 });
const partialOf =
  values['partial-of'] === undefined
    ? undefined
    : integerFlag(cli, 'partial-of', values['partial-of'], { min: 1, max: ORDER_AMOUNT });
if (partialOf !== undefined && ORDER_AMOUNT % partialOf !== 0) {
  usageError(cli, `--partial-of must divide the order amount ${ORDER_AMOUNT} (got ${partialOf})`);
}
if (partialOf !== undefined && partialOf > clicks) {
  usageError(cli, `--partial-of ${partialOf} needs at least ${partialOf} clicks (got --clicks ${clicks})`);
}
const card = values.card ?? 'pm_card_visa';
if (!/^pm_[A-Za-z0-9_]{1,100}$/.test(card)) {
  usageError(cli, `--card must look like pm_... (got ${JSON.stringify(card)})`);
}
const log = (line: string) => {
  if (!values.json) console.log(line);
  else console.error(line);
};

let stack: Stack | undefined;
const cleanup = async () => {
  const s = stack;
  stack = undefined;
  await s?.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  log(`starting PostgreSQL, the Stripe emulator and ${instances} server process(es)...`);
  stack = await startStack({ instances, emulatorLatencyMs: latencyMs });
  if (refundDelayMs !== undefined) stack.emulator.setRefundDelay(refundDelayMs);
  const race: Race = { stack, instances, card, json: values.json, log };
  switch (op) {
    case 'create':
      return raceCreate(stack);
    case 'refund':
      return raceRefund(race, clicks, partialOf);
    case 'cancel-vs-pay':
      return raceCancelVsPay(race, trials, latencyMs);
    case 'capture-vs-void':
      return raceCaptureVsVoid(race, trials, { latencyMs, naive: values.naive === true });
    default:
      return racePay(stack);
  }
}

async function raceCreate(stack: Stack): Promise<number> {
  const user = await stack.newUser('race');
  const key = `race-${randomUUID()}`;
  log(`firing ${clicks} concurrent creates with idempotency key ${key} across ${instances} instance(s)`);
  const receipts: IdempotencyReceipt[] = Array.from({ length: clicks }, () => ({ key }));
  const started = performance.now();
  const results = await Promise.allSettled(
    receipts.map((receipt, i) =>
      user.clients[i % instances]!.orders.create.mutate(
        { amount: ORDER_AMOUNT, currency: 'usd', paymentMethodId: card },
        { context: { idempotency: receipt } },
      ),
    ),
  );
  const elapsedMs = performance.now() - started;
  const otherReasons = new Map<string, number>();
  for (const r of results) {
    if (r.status === 'rejected')
      otherReasons.set(reasonOf(r.reason), (otherReasons.get(reasonOf(r.reason)) ?? 0) + 1);
  }
  const made = await stack.db.sql`select count(*)::int as n from orders where user_id = ${user.id}`;
  const summary = {
    op: 'create',
    clicks,
    instances,
    orders_created: made[0]?.n as number,
    replayed: results.filter((r, i) => r.status === 'fulfilled' && receipts[i]?.replayed).length,
    other: results.filter((r) => r.status === 'rejected').length,
  };
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(`  orders created  ${summary.orders_created}`);
  log(`  replayed        ${summary.replayed}`);
  log(`  other           ${summary.other}`);
  for (const [reason, n] of otherReasons) log(`    ${n} x ${reason}`);
  log(`  tries           ${receipts.reduce((n, r) => n + (r.tries ?? 0), 0)} requests for ${clicks} calls`);
  if (values.json) console.log(JSON.stringify(summary));
  return summary.orders_created === 1 && summary.replayed === clicks - 1 ? 0 : 1;
}

async function racePay(stack: Stack): Promise<number> {
  const user = await stack.newUser('race');
  const order = await user.clients[0]!.orders.create.mutate({
    amount: ORDER_AMOUNT,
    currency: 'usd',
    paymentMethodId: card,
  });
  log(`order ${order.id} (${card}): firing ${clicks} concurrent pays across ${instances} instance(s)`);

  const counts = { charged: 0, already_paid: 0, declined: 0, other: 0 };
  const otherReasons = new Map<string, number>();
  const started = performance.now();
  // All requests are issued before any is awaited: they are in flight together.
  const results = await Promise.allSettled(
    Array.from({ length: clicks }, (_, i) =>
      user.clients[i % instances]!.orders.pay.mutate({ orderId: order.id }),
    ),
  );
  const elapsedMs = performance.now() - started;
  for (const r of results) {
    if (r.status === 'fulfilled' && (r.value.outcome === 'charged' || r.value.outcome === 'already_paid')) {
      counts[r.value.outcome]++;
    } else if (r.status === 'rejected' && isDecline(r.reason)) {
      counts.declined++;
    } else {
      counts.other++;
      const reason = r.status === 'fulfilled' ? r.value.outcome : reasonOf(r.reason);
      otherReasons.set(reason, (otherReasons.get(reason) ?? 0) + 1);
    }
  }
  const intents = stack.paymentIntentsFor(order.id);
  const final = await user.clients[0]!.orders.get.query({ orderId: order.id });
  const summary = {
    op: 'pay',
    clicks,
    instances,
    charged: counts.charged,
    already_paid: counts.already_paid,
    declined: counts.declined,
    other: counts.other,
    provider_payment_intents: intents.length,
    order_status: final.order.status,
  };
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(`  charged                  ${summary.charged}`);
  log(`  already_paid             ${summary.already_paid}`);
  log(`  declined                 ${summary.declined}`);
  log(`  other                    ${summary.other}`);
  for (const [reason, n] of otherReasons) log(`    ${n} x ${reason}`);
  log(`  provider PaymentIntents  ${summary.provider_payment_intents}`);
  log(`  order status             ${summary.order_status}`);
  if (values.json) console.log(JSON.stringify(summary));
  return summary.provider_payment_intents === 1 ? 0 : 1;
}

/** The typed decline: 402 PAYMENT_REQUIRED with the decline's domain code. */
function isDecline(err: unknown): boolean {
  return (
    err instanceof TRPCClientError &&
    err.data?.code === 'PAYMENT_REQUIRED' &&
    err.data?.domainCode === 'PAYMENT_DECLINED' &&
    typeof err.data?.declineCode === 'string'
  );
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    console.error('race failed:', err);
    await cleanup().catch(() => {});
    process.exit(1);
  });
