import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The coverage every suite that exercises the money path records (`vitest run --coverage` in each
 * such package's `test` script): V8 coverage of packages/payments, packages/api and packages/db,
 * however the suite reaches them (imported across packages included), as one istanbul JSON per
 * suite under tests/test-results/coverage/runs/<suite>. `pnpm coverage` (tests/coverage/report.ts)
 * merges the suites, credits what their spawned processes executed (NODE_V8_COVERAGE) and checks
 * the thresholds.
 */
export const REPO_ROOT = fileURLToPath(new URL('.', import.meta.url));
export const COVERED_PACKAGES = ['payments', 'api', 'db'] as const;
export const COVERAGE_DIR = join(REPO_ROOT, 'tests/test-results/coverage');
/** Where spawned processes write raw V8 coverage when a suite runs with coverage. */
export const CHILD_COVERAGE_DIR = join(COVERAGE_DIR, 'processes');

/**
 * A package's vitest config that records money-path coverage as suite `name`. The repository is
 * vite's root, the package folder the tests' `dir`: vite transforms a file that no test loaded (to
 * report it as uncovered) only under its root, and the money path spans three packages.
 */
export function moneyPathSuite(name: string, dir: string, test: ViteUserConfig['test'] = {}) {
  return defineConfig({
    root: REPO_ROOT,
    test: {
      name,
      dir: join(REPO_ROOT, dir),
      globalSetup: [join(REPO_ROOT, 'vitest.coverage.setup.ts')],
      // Ceilings, not waits: tests that start PostgreSQL or processes can be slow on a loaded
      // 2-core machine, and a ceiling that fires there is noise, not a finding.
      testTimeout: 60_000,
      hookTimeout: 120_000,
      ...test,
      coverage: {
        provider: 'v8',
        allowExternal: true,
        include: COVERED_PACKAGES.map((p) => `packages/${p}/src/**/*.ts`),
        // Test support that ships in a package for other packages' tests, not product code.
        exclude: ['packages/db/src/testing.ts'],
        reportsDirectory: join(COVERAGE_DIR, 'suites', name),
        reporter: [['json', { file: 'coverage-final.json' }]],
        clean: true,
      },
    },
  });
}
