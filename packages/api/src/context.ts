import type { Database } from '@chargeonce/db';
import {
  DEFAULT_RECONCILE_WINDOW_MS,
  DEFAULT_RECOVERY_POLICY,
  type Logger,
  type PaymentsDeps,
  type RecoveryPolicy,
} from '@chargeonce/payments';
import type { Authenticator } from './auth';

export interface ApiDeps {
  db: Database;
  payments: PaymentsDeps;
  auth: Authenticator;
  /**
   * Caller idempotency keys (see idempotency.ts): how long a request holds its key (default
   * `DEFAULT_IDEMPOTENCY_LEASE_MS`), and how an answer that could not be stored during a database
   * outage is tried again in the background (default: an unref'd `setTimeout`; tests pass their own).
   */
  idempotency?: { leaseMs?: number; schedule?: (run: () => void, ms: number) => void };
  /**
   * What the operators' procedures run with: the deployment's recovery policy (its lease and key
   * window) and reconciliation window. Default: the payments package's defaults.
   */
  operations?: { recovery: RecoveryPolicy; reconcileWindowMs: number };
}

/** How long a request holds its idempotency key before another may take it (it died). */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 120_000;

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
  /** What the request's idempotency key did: `executed`, `replayed`, `in_use`, `reused`. */
  idempotency?: 'executed' | 'replayed' | 'in_use' | 'reused';
  /** Set with `in_use`: when to try again (the adapter's Retry-After). */
  retryAfterMs?: number;
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
  /** The request's `Idempotency-Key` header, if any. */
  idempotencyKey?: string | undefined;
  /** Calls in the request (a batch's size; default 1): a header key names one call only. */
  calls?: number;
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
    idempotencyHeader: opts.idempotencyKey,
    calls: opts.calls ?? 1,
    idempotencyLeaseMs: opts.deps.idempotency?.leaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS,
    idempotencySchedule: opts.deps.idempotency?.schedule,
    operations: opts.deps.operations ?? {
      recovery: DEFAULT_RECOVERY_POLICY,
      reconcileWindowMs: DEFAULT_RECONCILE_WINDOW_MS,
    },
  };
}

export type Context = ReturnType<typeof createContextInner>;
