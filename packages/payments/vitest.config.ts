import { moneyPathSuite } from '../../vitest.coverage.ts';

export default moneyPathSuite('payments', 'packages/payments');
