/**
 * `pnpm reconcile [--json] [--since <ISO date or hours ago>] [--until <ISO date>]`: compares the
 * provider's PaymentIntents in the window (default: the last 24 h) with the database, heals what
 * is safe to heal, reports the rest. Exit status 1 while anything is unexplained.
 */
import { parseCommandLine, usageError } from '@chargeonce/cli';
import { DEFAULT_RECONCILE_WINDOW_MS, reconcile } from '@chargeonce/payments';
import { connect, fail } from './connect';

const cli = {
  usage: `usage: pnpm reconcile -- [--json] [--since <hours ago | ISO date>] [--until <ISO date>]
  --json     the last line is the report as one JSON object
  --since    start of the window: a number of hours ago, or a date (default: 24 hours before --until)
  --until    end of the window (default: now)
Compares the provider's PaymentIntents created in the window (held, captured, canceled or failed
authorizations and challenges too), and the refunds of orders refunded in
it, with the database, heals what is safe
to heal and reports the rest, against DATABASE_URL and STRIPE_SECRET_KEY (+ STRIPE_API_BASE), or the
running \`pnpm start\` of this checkout. Exit status 1 while anything is unexplained, 2 on a usage or
configuration error.`,
  options: {
    json: { type: 'boolean', default: false },
    since: { type: 'string' },
    until: { type: 'string' },
  },
} as const;

function parseWhen(value: string | undefined, fallback: Date): Date {
  if (!value) return fallback;
  const hours = Number(value);
  const date = Number.isFinite(hours) ? new Date(Date.now() - hours * 3_600_000) : new Date(value);
  if (Number.isNaN(date.getTime())) usageError(cli, `not a date or a number of hours: ${value}`);
  return date;
}

async function main(): Promise<number> {
  const values = parseCommandLine(cli);
  const to = parseWhen(values.until, new Date());
  const from = parseWhen(values.since, new Date(to.getTime() - DEFAULT_RECONCILE_WINDOW_MS));
  const { deps, handle } = connect('reconcile');
  try {
    const report = await reconcile(deps, { from, to });
    if (values.json) {
      console.log(JSON.stringify(report));
    } else {
      console.log(`window ${report.window.from} .. ${report.window.to}`);
      console.log(
        `provider PaymentIntents ${report.providerPaymentIntents} (succeeded ${report.providerSucceeded})`,
      );
      console.log(`paid orders             ${report.paidOrders}`);
      console.log(`refunded orders         ${report.refundedOrders}`);
      for (const f of report.findings) {
        console.log(
          `  ${f.kind.padEnd(38)} order=${f.orderId ?? '-'} pi=${f.paymentIntentId ?? '-'} ${f.detail}`,
        );
      }
      console.log(
        report.unexplained === 0
          ? 'all payments and refunds accounted for'
          : `${report.unexplained} unexplained`,
      );
    }
    return report.unexplained > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}

main().then((code) => process.exit(code), fail);
