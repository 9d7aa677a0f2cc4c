/**
 * `pnpm drain-trials`: Ctrl-C on `pnpm start` during a pay, N times (see tests/support/drain.ts).
 * Each trial starts the server through the real wrapper chain in its own process group, holds one
 * pay at the provider, SIGINTs the whole group, and checks that the pay got its real answer
 * (charged), the server exited 0 and the provider shows one charge. Exits 1 unless every trial
 * drained.
 */
import { integerFlag, parseCommandLine } from '@chargeonce/cli';
import { type DrainTrial, OLD_BEHAVIOUR, startDrainHarness } from '../support/drain';

const cli = {
  usage: `usage: pnpm drain-trials -- [--trials N] [--hold-ms H] [--root] [--old] [--json]
  --trials N    trials, one after another, each with a fresh server (default 20)
  --hold-ms H   how long the provider holds each pay's create (default 1500)
  --root        start the server with the root \`pnpm start\` (web build first, one more pnpm and
                shell in the process group) instead of \`pnpm --filter @chargeonce/server start\`
  --old         the harness's self-check: the old behaviour (every delivery counted and the second
                exits at once: CHARGEONCE_SHUTDOWN_FORCE_SIGNALS=2,
                CHARGEONCE_SHUTDOWN_SIGNAL_COALESCE_MS=0) with the second delivery made certain (one
                more SIGINT to the server itself); trials must then fail
  --json        the last line is one JSON object with the counts and every trial`,
  options: {
    trials: { type: 'string' },
    'hold-ms': { type: 'string' },
    root: { type: 'boolean' },
    old: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const;

const args = parseCommandLine(cli);
const trials = integerFlag(cli, 'trials', args.trials ?? '20', { min: 1, max: 1000 });
const holdMs = integerFlag(cli, 'hold-ms', args['hold-ms'] ?? '1500', { min: 100, max: 20_000 });

const harness = await startDrainHarness();
const results: DrainTrial[] = [];
try {
  for (let i = 1; i <= trials; i++) {
    const trial = await harness.trial({
      holdMs,
      root: !!args.root,
      ...(args.old ? OLD_BEHAVIOUR : {}),
    });
    results.push(trial);
    console.log(
      `trial ${i}/${trials}: ${trial.drained ? 'drained' : 'DROPPED'} (pay ${trial.pay}, server exit ${trial.serverExit}, ` +
        `signals heard ${trial.signalsHeard}, charges ${trial.charges}, ${trial.ms} ms)`,
    );
  }
} finally {
  await harness.stop();
}
const drained = results.filter((t) => t.drained).length;
const heardTwice = results.filter((t) => t.signalsHeard > 1).length;
console.log(`${drained} of ${trials} drained; the server heard the signal more than once in ${heardTwice}`);
if (args.json) {
  console.log(
    JSON.stringify({
      trials,
      drained,
      dropped: trials - drained,
      heardTwice,
      root: !!args.root,
      old: !!args.old,
      results,
    }),
  );
}
process.exit(drained === trials ? 0 : 1);
