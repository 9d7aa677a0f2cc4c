import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { REPO_ROOT } from './vitest.coverage.ts';

/**
 * The integration suites that cannot kill a mutant: those that do not run the server inside the
 * test process (tests/support/in-process.ts), because their servers are spawned processes
 * (server-process, failover, chaos, pooler, drain, …) or they test tooling only. A spawned server does get the active mutant (tests/support/processes.ts),
 * but Stryker's per-test coverage sees only what its own runner process executes, so a mutant only
 * they reach counts as NoCoverage and is never run against them: they would only cost time.
 * Excluded rather than included by name because vite merges a project's arrays with the config it
 * extends: an `include` would add to `integration/**` instead of replacing it.
 */
export function spawnedProcessSuites(): string[] {
  const dir = join(REPO_ROOT, 'tests/integration');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => !readFileSync(join(dir, f), 'utf8').includes("from '../support/in-process'"))
    .map((f) => `integration/${f}`);
}

/**
 * The fuzzing under Stryker: one seed, so a mutant is killed or not the same way in every run, and
 * a tenth of the runs (FUZZ_SCALE, packages/api/test/fuzz-support.ts), since each covering property
 * runs for every mutant it reaches. Set either to override.
 */
process.env.FUZZ_SEED ??= '20261203';
process.env.FUZZ_SCALE ??= '0.1';

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
        // One worker, as Stryker runs the packages' suites (these set two for `pnpm test`); a group
        // of its own runs it after them.
        test: { exclude: spawnedProcessSuites(), maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
