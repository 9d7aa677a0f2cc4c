/**
 * The procedures outside the orders router, fuzzed by ./operations-fuzz.test.ts (in process); the
 * orders procedures are ./fuzz-support.ts `PROCEDURES`. ./fuzz.test.ts checks the two cover the router.
 */
export const OTHER_PROCEDURES = [
  'operations.overview',
  'operations.recover',
  'operations.reconcile',
  'principal.whoami',
] as const;
