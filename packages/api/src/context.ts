import type { Database } from '@chargeonce/db';
import type { Logger, PaymentsDeps } from '@chargeonce/payments';
import type { Authenticator } from './auth';

export interface ApiDeps {
  db: Database;
  payments: PaymentsDeps;
  auth: Authenticator;
}

/**
 * Facts about the request that procedures fill in for the adapter's one log line and metrics
 * (who, which order, what happened). Mutable on purpose: it outlives the procedure call.
 */
export interface RequestAudit {
  /** The procedures the request ran (several for a batch), sorted. */
  procedures?: string[];
  /** `user:<id>` or `service:<name>`. */
  principal?: string;
  userId?: string;
  orderId?: string;
  outcome?: string;
}

export interface CreateContextOptions {
  deps: ApiDeps;
  /** The bearer token of the request, if any. */
  token: string | null;
  /** Request-scoped logger (the adapter's, carrying the request id). */
  logger?: Logger;
  /** Filled in by procedures; the adapter logs it. */
  audit?: RequestAudit;
  /** Called when the request's token is refused (the adapter's per-source failure limit). */
  onAuthFailure?: () => void;
}

/** The transport-free context: tests build it directly; the HTTP adapter wraps it. */
export function createContextInner(opts: CreateContextOptions) {
  return {
    db: opts.deps.db,
    payments: opts.deps.payments,
    auth: opts.deps.auth,
    token: opts.token,
    logger: opts.logger,
    audit: opts.audit ?? {},
    onAuthFailure: opts.onAuthFailure ?? (() => {}),
  };
}

export type Context = ReturnType<typeof createContextInner>;
