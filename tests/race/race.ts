/**
 * `pnpm race -- --clicks N --instances K [--card pm_...] [--json] [--latency-ms L]`
 *
 * Starts PostgreSQL (embedded, throwaway), the Stripe emulator and K server processes on one
 * database, creates one order paid with `--card`, fires N concurrent `orders.pay` calls spread
 * over the instances through `@chargeonce/client`, and counts outcomes (`declined`: callers told
 * the typed decline) and the PaymentIntents the provider made. Exit status 1 unless exactly one
 * PaymentIntent exists for the order.
 */
import { integerFlag, parseCommandLine } from '@chargeonce/cli';
import { TRPCClientError } from '@chargeonce/client';
import { type Stack, startStack } from '../support/stack';

const cli = {
  usage: `usage: pnpm race -- [--clicks N] [--instances K] [--card pm_...] [--latency-ms L] [--json]
  --clicks N       concurrent orders.pay calls on one order (default 200)
  --instances K    server processes sharing one database (default 3)
  --card pm_...    the order's payment method, e.g. pm_card_chargeDeclined (default pm_card_visa)
  --latency-ms L   Stripe emulator latency per request (default 0)
  --json           the last line is one JSON object with the counts
Exit status 1 unless exactly one PaymentIntent exists for the order.`,
  options: {
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
      const reason =
        r.status === 'fulfilled'
          ? r.value.outcome
          : r.reason instanceof TRPCClientError
            ? `${r.reason.data?.code ?? 'error'}: ${r.reason.message}`
            : String(r.reason);
      otherReasons.set(reason, (otherReasons.get(reason) ?? 0) + 1);
    }
  }
  const intents = stack.paymentIntentsFor(order.id);
  const final = await user.clients[0]!.orders.get.query({ orderId: order.id });
  const summary = {
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
