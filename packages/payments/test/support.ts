import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { afterAll, beforeAll } from 'vitest';
import type {
  AuthorizationGateway,
  PaymentGateway,
  RefundGateway,
  RefundRequest,
  RefundResult,
} from '../src/gateway';

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

/** The refund and capture halves of a gateway, for fakes of tests that never refund or capture. */
export const unusedRefundsAndCaptures: RefundGateway & AuthorizationGateway = {
  refund: () => Promise.reject(new Error('not used')),
  retrieveRefund: () => Promise.reject(new Error('not used')),
  listRefunds: () => Promise.reject(new Error('not used')),
  capture: () => Promise.reject(new Error('not used')),
  cancel: () => Promise.reject(new Error('not used')),
};

/** Stripe's answer to a refund when all goes well. */
export const refundSucceeds = (r: RefundRequest): RefundResult => ({
  kind: 'succeeded',
  refundId: `re_${r.idempotencyKey}`,
});

/**
 * A provider whose charges succeed and whose refunds answer `answer(request, n)` a tick later (so
 * concurrent callers interleave); it records every refund request.
 */
export function refundingProvider(
  answer: (r: RefundRequest, n: number) => Promise<RefundResult> | RefundResult = refundSucceeds,
) {
  const requests: RefundRequest[] = [];
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    charge: async (r) => ({ kind: 'succeeded', paymentIntentId: `pi_${r.idempotencyKey}` }),
    retrieve: () => Promise.reject(new Error('not used')),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
    async refund(request) {
      requests.push(request);
      await new Promise((resolve) => setImmediate(resolve));
      return answer(request, requests.length);
    },
  };
  return { gateway, requests };
}
