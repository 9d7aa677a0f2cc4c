/**
 * `pnpm reconcile [--json] [--since <ISO date or hours ago>] [--until <ISO date>]`: compares the
 * provider's PaymentIntents in the window (default: the last 24 h) with the database, heals what
 * is safe to heal, reports the rest. Exit status 1 while anything is unexplained.
 */
import { parseArgs } from 'node:util';
import { reconcile } from '@chargeonce/payments';
import { ConfigError } from '../config';
import { connect, fail } from './connect';

function parseWhen(value: string | undefined, fallback: Date): Date {
  if (!value) return fallback;
  const hours = Number(value);
  const date = Number.isFinite(hours) ? new Date(Date.now() - hours * 3_600_000) : new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new ConfigError(`reconcile: not a date or a number of hours: ${value}`);
  return date;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      json: { type: 'boolean', default: false },
      since: { type: 'string' },
      until: { type: 'string' },
    },
  });
  const to = parseWhen(values.until, new Date());
  const from = parseWhen(values.since, new Date(to.getTime() - 24 * 3_600_000));
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
      for (const f of report.findings) {
        console.log(
          `  ${f.kind.padEnd(38)} order=${f.orderId ?? '-'} pi=${f.paymentIntentId ?? '-'} ${f.detail}`,
        );
      }
      console.log(
        report.unexplained === 0 ? 'all payments accounted for' : `${report.unexplained} unexplained`,
      );
    }
    return report.unexplained > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}

main().then((code) => process.exit(code), fail);
