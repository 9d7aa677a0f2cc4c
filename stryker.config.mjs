/**
 * `pnpm mutate` (tests/mutation/mutate.ts runs this, then checks the scores per file).
 * In place: Stryker's copied sandbox would not work here, because pnpm's workspace links are relative
 * symlinks that lead an import of `@chargeonce/payments` back to the unmutated checkout; in place,
 * Stryker writes the mutated files over the sources and restores them when it ends (do not edit or
 * commit while it runs).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  plugins: ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'],
  testRunner: 'vitest',
  // Integration suites reach the code through HTTP and processes, not imports: run all, not "related".
  // Forks, as the suites run under `pnpm test` (each test file starts its own PostgreSQL and servers).
  vitest: { configFile: 'vitest.stryker.config.ts', related: false, pool: 'forks' },
  checkers: ['typescript'],
  // The three money-path packages and their tests, type-checked as one program: a mutant that does
  // not compile is not run.
  tsconfigFile: 'tsconfig.stryker.json',
  inPlace: true,
  // The default inserts // @ts-nocheck into every file, which in place means rewriting the tree.
  disableTypeChecks: false,
  // The money path (issue 16): claim/finalize, pay, recovery, webhooks, reconciliation, refunds,
  // cancel, captures, 3-D Secure settlement, the idempotency middleware and the authorization rules.
  mutate: [
    'packages/payments/src/{attempts,cancel,capture,capture-recover,capture-store,challenge,claim,lease,outcome,pay,reconcile,reconcile-holds,recover,refund,refund-events,refund-reconcile,refund-recover,refund-store,settle,stripe-gateway,stripe-refunds,stripe-webhooks,webhook}.ts',
    'packages/api/src/{auth,owner,idempotency}.ts',
    'packages/api/src/orders/{cancel,capture,pay,refund}.ts',
    'packages/db/src/idempotency.ts',
  ],
  // A static mutant (one that acts while a module loads: a module-level constant, a default policy)
  // is covered by every test, so each costs the whole suite on these 2 cores. Stryker reports them
  // as Ignored, outside the score; `pnpm mutate` prints how many.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: 'tests/test-results/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'tests/test-results/mutation/index.html' },
  jsonReporter: { fileName: 'tests/test-results/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
