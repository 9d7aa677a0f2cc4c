/**
 * `pnpm race -- --clicks N --instances K [--json] [--latency-ms L]`
 *
 * Starts PostgreSQL (embedded, throwaway), the Stripe emulator and K server processes on one
 * database, creates one order, fires N concurrent `orders.pay` calls spread over the instances
 * through `@chargeonce/client`, and counts outcomes and the PaymentIntents the provider made.
 * Exit status 1 unless exactly one PaymentIntent exists for the order.
 */
import { parseArgs } from 'node:util';
import { TRPCClientError } from '@chargeonce/client';
import { type Stack, startStack } from '../support/stack';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    clicks: { type: 'string', default: '200' },
    instances: { type: 'string', default: '3' },
    'latency-ms': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

const clicks = positiveInt('clicks', values.clicks, 1);
const instances = positiveInt('instances', values.instances, 1);
const latencyMs = positiveInt('latency-ms', values['latency-ms'], 0);
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
    paymentMethodId: 'pm_card_visa',
  });
  log(`order ${order.id}: firing ${clicks} concurrent pays across ${instances} instance(s)`);

  const counts = { charged: 0, already_paid: 0, other: 0 };
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
    other: counts.other,
    provider_payment_intents: intents.length,
    order_status: final.order.status,
  };
  log(`done in ${elapsedMs.toFixed(0)} ms`);
  log(`  charged                  ${summary.charged}`);
  log(`  already_paid             ${summary.already_paid}`);
  log(`  other                    ${summary.other}`);
  for (const [reason, n] of otherReasons) log(`    ${n} x ${reason}`);
  log(`  provider PaymentIntents  ${summary.provider_payment_intents}`);
  log(`  order status             ${summary.order_status}`);
  if (values.json) console.log(JSON.stringify(summary));
  return summary.provider_payment_intents === 1 ? 0 : 1;
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
