import { moneyPathSuite } from '../vitest.coverage.ts';

export default moneyPathSuite('integration', 'tests', {
  include: ['integration/**/*.test.ts'],
  // Each file starts its own PostgreSQL and servers: give them room, and at most two at once on
  // these 2-core machines.
  pool: 'forks',
  maxWorkers: 2,
  testTimeout: 120_000,
  // Waits poll a condition (`expect.poll`); a ceiling, not a sleep: slow machines just wait longer.
  expect: { poll: { timeout: 10_000, interval: 20 } },
  hookTimeout: 120_000,
});
