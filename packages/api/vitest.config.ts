import { moneyPathSuite } from '../../vitest.coverage.ts';

export default moneyPathSuite('api', 'packages/api');
