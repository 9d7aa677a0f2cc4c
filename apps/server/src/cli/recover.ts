/**
 * `pnpm recover [--json]`: one recovery pass (the same the server's worker runs), then exit.
 * Exit status 1 while attempts remain whose outcome the provider still cannot tell.
 */
import { DEFAULT_RECOVERY_POLICY, runRecovery } from '@chargeonce/payments';
import { connect, fail } from './connect';

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  const { config, deps, handle } = connect('recover');
  try {
    const report = await runRecovery(deps, { ...DEFAULT_RECOVERY_POLICY, ...config.recovery });
    if (json) {
      console.log(JSON.stringify(report));
    } else {
      console.log(`attempts leased: ${report.leased}`);
      for (const [result, count] of Object.entries(report.results))
        console.log(`  ${result.padEnd(16)} ${count}`);
    }
    return report.results.unknown > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}

main().then((code) => process.exit(code), fail);
