import type { Database } from '@chargeonce/db';
import type { Logger, PaymentsDeps } from '@chargeonce/payments';
import type { Authenticator } from './auth';

export interface ApiDeps {
  db: Database;
  payments: PaymentsDeps;
  auth: Authenticator;
}

export interface CreateContextOptions {
  deps: ApiDeps;
  /** The bearer token of the request, if any. */
  token: string | null;
  /** Request-scoped logger (the adapter's, carrying the request id). */
  logger?: Logger;
}

/** The transport-free context: tests build it directly; the HTTP adapter wraps it. */
export function createContextInner(opts: CreateContextOptions) {
  return {
    db: opts.deps.db,
    payments: opts.deps.payments,
    auth: opts.deps.auth,
    token: opts.token,
    logger: opts.logger,
  };
}

export type Context = ReturnType<typeof createContextInner>;
