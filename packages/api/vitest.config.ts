import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Ceilings, not waits: tests that start PostgreSQL or processes can be slow on a loaded
    // 2-core machine, and a ceiling that fires there is noise, not a finding.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
