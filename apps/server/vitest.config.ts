import { moneyPathSuite } from '../../vitest.coverage.ts';

export default moneyPathSuite('server', 'apps/server');
