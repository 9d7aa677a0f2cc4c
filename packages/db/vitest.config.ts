import { moneyPathSuite } from '../../vitest.coverage.ts';

export default moneyPathSuite('db', 'packages/db');
