import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { afterAll, beforeAll } from 'vitest';
import type { RefundGateway } from '../src/gateway';

/**
 * A throwaway PostgreSQL with the real migrations for one test file, a pool on it and one user:
 * started before the file's tests (handed to `ready`), stopped after them.
 */
export function useDatabase(
  userName: string,
  ready: (db: { handle: DbHandle; userId: string }) => void,
  options: { max?: number } = {},
): void {
  let database: TestDatabase | undefined;
  let handle: DbHandle | undefined;
  beforeAll(async () => {
    database = await startTestDatabase();
    handle = createDb(database.url, { max: options.max ?? 4 });
    ready({ handle, userId: (await createUserWithToken(handle.db, { name: userName })).id });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.stop();
  });
}

/** The refund half of a gateway, for fakes of tests that never refund. */
export const unusedRefunds: RefundGateway = {
  refund: () => Promise.reject(new Error('not used')),
  retrieveRefund: () => Promise.reject(new Error('not used')),
  listRefunds: () => Promise.reject(new Error('not used')),
};
