import { defineConfig } from 'vitest/config';

/**
 * Browser tests: Debian's Chromium (playwright-core) against real server processes serving the
 * built web client (turbo builds @chargeonce/web first; see the `test:browser` task).
 */
export default defineConfig({
  test: {
    include: ['browser/**/*.test.ts'],
    globalSetup: ['browser/support/global-setup.ts'],
    // Each file starts a server (with its own PostgreSQL) and a Chromium, next to the other
    // packages' suites on 2 cores: one file at a time keeps the timing-sensitive reload test honest.
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    // Waits poll a condition (`expect.poll`); a ceiling, not a sleep: slow machines just wait longer.
    expect: { poll: { timeout: 30_000, interval: 20 } },
    hookTimeout: 120_000,
  },
});
