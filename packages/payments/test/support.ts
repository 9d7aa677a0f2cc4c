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

export { aroundStatements } from '@chargeonce/db/testing';

/** What a recording logger was given: the level, the message and the fields, flat. */
export type LogEntry = { level: 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>;

/** A logger that keeps every entry (`levels`: only those), for tests that check what operators read. */
export function recordingLogger(levels: readonly LogEntry['level'][] = ['info', 'warn', 'error']) {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (fields: object, msg?: string) => {
    if (levels.includes(level)) entries.push({ ...fields, level, msg: msg ?? '' });
  };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/**
 * `db` that throws as a lost connection does (postgres.js's CONNECTION_CLOSED) on every use once
 * `state.down` is set (`state.once`: for one use, then it is back): how a test loses the database
 * at an exact point, e.g. inside a provider call.
 */
export function losingDatabase<T extends object>(db: T): { db: T; state: { down: boolean; once: boolean } } {
  const state = { down: false, once: false };
  const lost = Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' });
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (state.down) {
        if (state.once) state.down = false;
        throw lost;
      }
      return Reflect.get(target, prop, target);
    },
  });
  return { db: proxy, state };
}

/** A provider whose refund calls must not happen unless a test says what they answer. */
export function refundReads(over: Partial<PaymentGateway> = {}): PaymentGateway {
  const refuse = (what: string) => () => Promise.reject(new Error(`${what} must not be called`));
  return {
    ...refundingProvider().gateway,
    refund: refuse('refunds.create'),
    retrieveRefund: refuse('refunds.retrieve'),
    listRefunds: refuse('refunds.list'),
    ...over,
  };
}
