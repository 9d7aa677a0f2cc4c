import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { REPO_ROOT } from './vitest.coverage.ts';

/**
 * The integration suites that can kill a mutant: those that run the server inside the test process
 * (tests/support/in-process.ts). Stryker switches mutants inside its test-runner process, so a
 * suite whose servers are spawned processes (server-process, failover, chaos, pooler, drain, …)
 * runs them unmutated: it cannot kill a mutant, only cost time, and is left out.
 */
function inProcessIntegrationSuites(): string[] {
  const dir = join(REPO_ROOT, 'tests/integration');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => readFileSync(join(dir, f), 'utf8').includes("from '../support/in-process'"))
    .map((f) => `integration/${f}`);
}

/**
 * The suites `pnpm mutate` (stryker.config.mjs) runs against each mutant, as vitest projects under
 * one root so Stryker sees one run: the money-path packages' own suites (real PostgreSQL, the
 * emulator over HTTP) and the in-process integration suites. Stryker's per-test coverage then runs
 * only the tests that reach a mutant.
 */
export default defineConfig({
  test: {
    projects: [
      'packages/payments',
      'packages/api',
      'packages/db',
      {
        extends: 'tests/vitest.config.ts',
        // Its own maxWorkers (the packages' default differs) needs its own group: run it after them.
        test: { include: inProcessIntegrationSuites(), sequence: { groupOrder: 1 } },
      },
    ],
  },
});
