import {
  createDb,
  createService,
  createUserWithToken,
  type DbHandle,
  issueToken,
  type Scope,
} from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { createStripeGateway } from '@chargeonce/payments';
import { type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll } from 'vitest';
import { createTokenAuthenticator } from '../src/auth';
import {
  type ApiDeps,
  type CreateContextOptions,
  createContextInner,
  type RequestAudit,
} from '../src/context';
import { appRouter } from '../src/router';
import { createCallerFactory } from '../src/trpc';

/** Real PostgreSQL (migrated), the Stripe emulator and the API's deps, for createCaller tests. */
export interface ApiEnv {
  db: DbHandle;
  emulator: StripeEmulator;
  deps: ApiDeps;
  /**
   * A caller as an HTTP request with this bearer token (or none) would get, and its audit facts;
   * `request` for the rest of what the HTTP adapter passes (an Idempotency-Key header, a batch's
   * size, the logger) and for deps other than the env's.
   */
  caller(token: string | null, request?: CallerRequest): { api: Caller; audit: RequestAudit };
  newUser(name?: string): Promise<{ id: string; token: string }>;
  newService(scopes: readonly Scope[]): Promise<{ id: string; token: string }>;
  stop(): Promise<void>;
}

export type CallerRequest = Pick<CreateContextOptions, 'idempotencyKey' | 'calls' | 'logger'> & {
  deps?: ApiDeps;
};

const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

export async function startApiEnv(): Promise<ApiEnv> {
  const database: TestDatabase = await startTestDatabase();
  const emulator = await startStripeEmulator();
  const db = createDb(database.url, { max: 4 });
  const gateway = createStripeGateway({
    secretKey: 'sk_test_api',
    apiBase: emulator.url,
    maxNetworkRetries: 0,
  });
  const deps: ApiDeps = {
    db: db.db,
    auth: createTokenAuthenticator(db.db),
    payments: { db: db.db, gateway, instanceId: 'api-test' },
  };
  return {
    db,
    emulator,
    deps,
    caller(token, request = {}) {
      const audit: RequestAudit = {};
      const context = createContextInner({ ...request, deps: request.deps ?? deps, token, audit });
      return { api: createCaller(context), audit };
    },
    newUser: (name = 'user') => createUserWithToken(db.db, { name }),
    async newService(scopes) {
      const service = await createService(db.db, { name: `svc-${Math.random().toString(36).slice(2, 10)}` });
      const issued = await issueToken(db.db, { owner: { kind: 'service', serviceId: service.id }, scopes });
      return { id: service.id, token: issued.token };
    },
    async stop() {
      await db.close();
      await emulator.close();
      await database.stop();
    },
  };
}

export const visaOrder = { amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' };

/**
 * The file's ApiEnv: started before its tests and stopped after them. Its properties are read
 * from the started env when used (inside the tests), so it can be a top-level `const`.
 */
export function useApiEnv(): ApiEnv {
  let started: ApiEnv | undefined;
  beforeAll(async () => {
    started = await startApiEnv();
  });
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as ApiEnv, {
    get(_, property) {
      if (!started) throw new Error('the ApiEnv is used before beforeAll started it');
      return started[property as keyof ApiEnv];
    },
  });
}

/** Awaits a call expected to fail with a TRPCError and returns it. */
export async function trpcError(call: Promise<unknown>): Promise<TRPCError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
