import { defineConfig } from 'vitest/config';

/**
 * The suites `pnpm mutate` (stryker.config.mjs) runs against each mutant, as vitest projects under
 * one root so Stryker sees one run. So far the money-path package's own suites (real PostgreSQL,
 * the emulator over HTTP); the cross-package integration suites are the next step (issue 16).
 */
export default defineConfig({
  test: {
    projects: ['packages/payments'],
  },
});
