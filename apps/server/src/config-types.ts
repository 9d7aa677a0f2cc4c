import type { PayPolicy, RecoveryPolicy } from '@chargeonce/payments';
import type { DatabaseOptions } from './database-config';
import type { ShutdownOptions } from './shutdown-config';

/** pino's levels, as LOG_LEVEL takes them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Unset: run an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** Prepared statements (off behind a transaction-mode pooler), timeouts. */
  database: DatabaseOptions;
  /** Unset: run the Stripe emulator in process. */
  stripe: { secretKey: string; apiBase: string | undefined } | undefined;
  /** How provider calls are bounded (see StripeGatewayConfig). */
  stripeCalls: { timeoutMs: number; maxNetworkRetries: number; callTimeoutMs: number };
  emulatorPort: number;
  /** Verifies `POST /webhooks/stripe`; unset (and no emulator): the endpoint is not served. */
  webhookSecret: string | undefined;
  dataDir: string;
  instanceId: string;
  pay: PayPolicy;
  /** The recovery worker's period (0 disables it in this instance) and its policy. */
  recovery: { intervalMs: number; policy: RecoveryPolicy };
  /** Where a customer returns after 3-D Secure (`{orderId}` replaced); unset: this server's order page. */
  returnUrl: string | undefined;
  /** Periodic reconciliation of the last `windowMs`; interval 0 = off (use `pnpm reconcile`). */
  reconcile: { intervalMs: number; windowMs: number };
  /** Caller idempotency keys: the lease a request holds one for, retention, the reaper's period. */
  idempotency: { leaseMs: number; retentionMs: number; reapIntervalMs: number };
  demoUser: boolean;
  /** How long an instance trusts a checked token: the bound on revocation taking effect. */
  authCacheMs: number;
  /** Whether customers refund their own paid orders (else only services with orders:refund). */
  customerRefunds: boolean;
  /** How long a web-client session lasts (its token's expiry and its cookies' Max-Age). */
  sessionTtlMs: number;
  /** Failed authentications per source address per minute before it is answered 429. */
  authFailuresPerMinute: number;
  /** fastify's trustProxy: which proxies' forwarding headers name the client (false: none). */
  trustProxy: boolean | string[];
  /** Serve /metrics on its own listener (production: keep it off the public port); unset: on the server. */
  metrics: { port: number; host: string } | undefined;
  /** The built web client served at `/` when it holds an index.html (`pnpm start` builds it). */
  webDist: string;
  logLevel: LogLevel;
  /** The deadline and phases of shutdown. */
  shutdown: ShutdownOptions;
  /** CHARGEONCE_BUILD_COMMIT: the build's commit for chargeonce_build_info (unset: asked of git). */
  buildCommit: string | undefined;
}
