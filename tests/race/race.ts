/**
 * `pnpm race -- [--op pay|create] --clicks N --instances K [--card pm_...] [--json] [--latency-ms L]`
 *
 * Starts PostgreSQL (embedded, throwaway), the Stripe emulator and K server processes on one
 * database, and fires N concurrent calls spread over the instances through `@chargeonce/client`:
 * - `--op pay` (default): N `orders.pay` of one order paid with `--card`; counts outcomes
 *   (`declined`: callers told the typed decline) and the PaymentIntents the provider made. Exit
 *   status 1 unless exactly one PaymentIntent exists for the order.
 * - `--op create`: N `orders.create` with one idempotency key (a caller retrying one create N
 *   times at once); counts the orders made and the answers that were replays. Exit status 1
 *   unless exactly one order was made and every other call was answered with its replay.
 */

import { randomUUID } from 'node:crypto';
import { integerFlag, parseCommandLine } from '@chargeonce/cli';
import { type IdempotencyReceipt, TRPCClientError } from '@chargeonce/client';
import { type Stack, startStack } from '../support/stack';

const cli = {
  usage: `usage: pnpm race -- [--op pay|create] [--clicks N] [--instances K] [--card pm_...] [--latency-ms L] [--json]
  --op pay         concurrent orders.pay calls on one order (the default)
  --op create      concurrent orders.create calls with one idempotency key
  --clicks N       concurrent calls (default 200)
  --instances K    server processes sharing one database (default 3)
  --card pm_...    the order's payment method, e.g. pm_card_chargeDeclined (default pm_card_visa)
  --latency-ms L   Stripe emulator latency per request (default 0)
  --json           the last line is one JSON object with the counts
Exit status 1 unless exactly one PaymentIntent exists for the order (pay), or exactly one order
was made and every other call replayed it (create).`,
  options: {
    op: { type: 'string', default: 'pay' },
    clicks: { type: 'string', default: '200' },
    instances: { type: 'string', default: '3' },
    'latency-ms': { type: 'string', default: '0' },
    card: { type: 'string', default: 'pm_card_visa' },
    json: { type: 'boolean', default: false },
  },
} as const;
const values = parseCommandLine(cli);
const clicks = integerFlag(cli, 'clicks', values.clicks, { min: 1, max: 10_000 });
const instances = integerFlag(cli, 'instances', values.instances, { min: 1, max: 16 });
const latencyMs = integerFlag(cli, 'latency-ms', values['latency-ms'], { min: 0, max: 60_000 });
if (values.op !== 'pay' && values.op !== 'create') {
  console.error(`--op must be pay or create (got ${JSON.stringify(values.op)})\n\n${cli.usage}`);
  process.exit(2);
}
if (!/^pm_[A-Za-z0-9_]{1,100}$/.test(values.card)) {
  console.error(`--card must look like pm_... (got ${JSON.stringify(values.card)})\n\n${cli.usage}`);
  process.exit(2);
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
  return values.op === 'create' ? raceCreate(stack) : racePay(stack);
}

/** Why a call did not end as the race expects, for the human summary. */
const reasonOf = (err: unknown) =>
  err instanceof TRPCClientError ? `${err.data?.code ?? 'error'}: ${err.message}` : String(err);

async function raceCreate(stack: Stack): Promise<number> {
  const user = await stack.newUser('race');
  const key = `race-${randomUUID()}`;
  log(`firing ${clicks} concurrent creates with idempotency key ${key} across ${instances} instance(s)`);
  const receipts: IdempotencyReceipt[] = Array.from({ length: clicks }, () => ({ key }));
  const started = performance.now();
  const results = await Promise.allSettled(
    receipts.map((receipt, i) =>
      user.clients[i % instances]!.orders.create.mutate(
        { amount: 4200, currency: 'usd', paymentMethodId: values.card },
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
    amount: 4200,
    currency: 'usd',
    paymentMethodId: values.card,
  });
  log(`order ${order.id} (${values.card}): firing ${clicks} concurrent pays across ${instances} instance(s)`);

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
