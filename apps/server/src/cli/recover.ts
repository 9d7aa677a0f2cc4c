/**
 * `pnpm recover [--json]`: one recovery pass (the same the server's worker runs), then exit.
 * Exit status 1 while attempts, refunds, captures or voids remain whose outcome the provider still
 * cannot tell.
 */
import { parseCommandLine } from '@chargeonce/cli';
import { runRecovery } from '@chargeonce/payments';
import { connect, fail } from './connect';

const cli = {
  usage: `usage: pnpm recover -- [--json]
  --json   the last line is one JSON object:
           { leased, results, refunds: { leased, results }, captures: { leased, results } }
One recovery pass over attempts in flight (3-D Secure challenges open past
CHARGEONCE_CHALLENGE_TIMEOUT_MS are canceled), refunds, captures and voids pending longer than
CHARGEONCE_RECOVERY_GRACE_MS, and authorizations older than CHARGEONCE_AUTHORIZATION_CHECK_AFTER_MS,
against
DATABASE_URL and STRIPE_SECRET_KEY (+ STRIPE_API_BASE), or the running \`pnpm start\` of this checkout.
Exit status 1 while an outcome is still unknown, 2 on a usage or configuration error.`,
  options: { json: { type: 'boolean', default: false } },
} as const;

async function main(): Promise<number> {
  const { json } = parseCommandLine(cli);
  const { config, deps, handle } = connect('recover');
  try {
    const report = await runRecovery(deps, config.recovery.policy);
    if (json) {
      console.log(JSON.stringify(report));
    } else {
      console.log(`attempts leased: ${report.leased}`);
      for (const [result, count] of Object.entries(report.results))
        console.log(`  ${result.padEnd(16)} ${count}`);
      console.log(`refunds leased: ${report.refunds.leased}`);
      for (const [result, count] of Object.entries(report.refunds.results))
        console.log(`  ${result.padEnd(16)} ${count}`);
      console.log(`captures, voids and holds leased: ${report.captures.leased}`);
      for (const [result, count] of Object.entries(report.captures.results))
        console.log(`  ${result.padEnd(22)} ${count}`);
    }
    const unknown = report.results.unknown + report.refunds.results.unknown + report.captures.results.unknown;
    return unknown > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}

main().then((code) => process.exit(code), fail);
