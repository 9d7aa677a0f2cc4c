/**
 * `pnpm chaos -- [--runs N] [--seed S] [--db-faults] [--json]`
 *
 * Runs N randomized scenarios (scenario i has seed S+i; `--seed S+i --runs 1` replays it): each
 * starts a throwaway PostgreSQL, the Stripe emulator with a seeded fault plan and webhooks, and
 * 2–3 server processes, creates and pays many orders concurrently (duplicates, declines and
 * re-pays), cancels racing pays on the same orders, refunds of the paid ones (full and partial,
 * several at once on one order, some with test cards whose refunds go pending or fail later),
 * orders authorized to capture later (captures and voids racing, partial captures) and 3-D Secure
 * orders (challenges completed, failed or abandoned by a scripted customer), under provider faults
 * on payments, refunds and captures alike, while SIGKILLing and restarting servers and
 * dropping a seeded share of the answers on their way back to the callers (who retry through the
 * typed client, with their keys), then lets recovery and webhooks settle and audits the database
 * against the provider's ledger (charges and refunds) and every logical create against the orders
 * made. Every answer a caller got is audited too (no HTTP 500), and no server may exit on its own.
 * With `--db-faults`, PostgreSQL itself is crash-restarted, SIGKILLed and started again, or has all
 * its connections dropped during the load (db-faults.ts). Exit status 1 on any violation.
 */
import { integerFlag, parseCommandLine } from '@chargeonce/cli';
import { drawDbFaults } from './db-faults';
import { add, emptySummary, scenarioLine, toJsonLine, violationCount } from './report';
import { runScenario } from './runner';
import { describeScenario, generateScenario } from './scenario';

/** A scenario that takes longer than this is abandoned (servers, database and emulator stopped). */
const SCENARIO_TIMEOUT_MS = 240_000;

const cli = {
  usage: `usage: pnpm chaos -- [--runs N] [--seed S] [--db-faults] [--json]
  --runs N      scenarios to run (default 10)
  --seed S      seed of the first scenario (default: random, printed first); scenario i has seed S+i
  --db-faults   also fault the database during the load, one to three times per scenario, at random
                moments or when a payment is at the provider or charged and not yet recorded: crash-
                restart PostgreSQL (stop -m immediate, start), SIGKILL its postmaster and start it
                again, or drop every connection (pg_terminate_backend); off by default
  --json        the last line is one JSON object with the totals
Each scenario mixes, on the same orders: creates and pays (duplicated, declined, re-paid); cancels
racing the pays; refunds of paid orders (full and partial, several at once on one order, each under
its caller key, some with pm_card_pendingRefund / pm_card_refundFail so they go pending or fail
later); manual-capture orders captured (all or part) and/or voided by a merchant service, racing;
3-D Secure orders whose challenge is completed, failed or abandoned (canceled by recovery after a
2-5 s challenge timeout); provider faults on payment_intents.* and refunds.*; duplicate/reordered
webhooks; SIGKILLed servers (also mid-capture); dropped answers. Then recovery and webhooks settle it
(pending refunds, captures and voids, open challenges included).
Exit status 1 on any duplicate, lost, stuck or mismatched payment, any logical create that made
more than one order or told its caller of another, any order whose refunds do not add up (provider
over the amount or unlike the database, refunded_amount unlike its pending + succeeded refunds, one
refund request made twice), any refund still pending, any charge of a canceled order, any capture
over the authorization, any authorization both captured and voided (or decided twice), any order
charged but not paid (or paid but not charged), any capture or void still pending, any
challenge left open (an abandoned one must end canceled, its order payable), any answer that was
an HTTP 500 or an untyped 5xx (a DATABASE_UNAVAILABLE 503 must say when to retry), any payer told
declined whose card paid the order, or any server process that exited without being killed. With
--db-faults also: any outage during which no /readyz answered 503, or a server whose /readyz does
not answer 200 afterwards. Callers told DATABASE_UNAVAILABLE ask again with the same key after its
retryAfterMs, as a real service would (the typed client a few times, then the caller).`,
  options: {
    runs: { type: 'string', default: '10' },
    seed: { type: 'string' },
    'db-faults': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
} as const;
const values = parseCommandLine(cli);
const runs = integerFlag(cli, 'runs', values.runs, { min: 1, max: 10_000 });
const seed =
  values.seed === undefined
    ? Math.floor(Math.random() * 1_000_000)
    : integerFlag(cli, 'seed', values.seed, { min: 0 });
const log = (line: string) => {
  if (values.json) console.error(line);
  else console.log(line);
};

let cleanup: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process this run started`);
    (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  log(`chaos: ${runs} scenario(s), seed ${seed}`);
  const summary = emptySummary(seed);
  let failed = 0;
  for (let i = 0; i < runs; i++) {
    const scenarioSeed = seed + i;
    const scenario = generateScenario(scenarioSeed);
    if (values['db-faults']) scenario.dbFaults = drawDbFaults(scenarioSeed, scenario.loadMs);
    const replay = `pnpm chaos -- --seed ${scenarioSeed} --runs 1${values['db-faults'] ? ' --db-faults' : ''}`;
    log(`#${i + 1} ${describeScenario(scenario)}`);
    const started = Date.now();
    try {
      const result = await withTimeout(
        runScenario(scenario, log, (c) => {
          cleanup = c;
        }),
        SCENARIO_TIMEOUT_MS,
        `scenario seed ${scenarioSeed}`,
      );
      add(summary, result);
      log(scenarioLine(i, scenarioSeed, result, Date.now() - started));
      if (violationCount(result.audit.violations) > 0) {
        failed++;
        log(`  VIOLATION in scenario seed ${scenarioSeed}; replay: ${replay}`);
        log(`  scenario: ${JSON.stringify(scenario)}`);
        for (const d of result.audit.details) log(`  ${d}`);
        for (const line of result.evidence) log(`  server: ${line}`);
        for (const line of result.history) log(`  history: ${line}`);
      }
    } catch (err) {
      // Not a verdict on the product: the harness could not run the scenario. Still a failure.
      failed++;
      await cleanup?.().catch(() => {});
      log(
        `  scenario seed ${scenarioSeed} could not run: ${err instanceof Error ? err.message : String(err)}`,
      );
      log(`  replay: ${replay}; scenario: ${JSON.stringify(scenario)}`);
    }
  }
  log(
    `chaos: ${summary.runs}/${runs} scenario(s) ran, ${failed} failed; kills=${summary.kills} faults=${summary.faults} ` +
      `orders=${summary.orders} creates=${summary.creates} dropped=${summary.dropped} paid=${summary.paid} ` +
      `provider_succeeded=${summary.provider_succeeded} refunds=${summary.refunds} ` +
      `refunds_succeeded=${summary.refunds_succeeded} provider_refunded=${summary.provider_refunded} ` +
      `cancels=${summary.cancels} canceled=${summary.canceled} authorizations=${summary.authorizations} ` +
      `captures=${summary.captures} voids=${summary.voids} challenges=${summary.challenges} ` +
      `answers=${summary.answers} answers_500=${summary.answers500} db_faults=${summary.db_faults} ` +
      `servers_exited=${summary.serversExited}`,
  );
  if (failed > 0) log(`chaos: FAILED (seed ${seed}; replay one scenario with --seed <its seed> --runs 1)`);
  if (values.json) console.log(toJsonLine(summary));
  return failed > 0 ? 1 : 0;
}

main()
  .then((code) => process.exit(code))
  .catch(async (err: unknown) => {
    console.error('chaos failed:', err);
    await cleanup?.().catch(() => {});
    process.exit(1);
  });
