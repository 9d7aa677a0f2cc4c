import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AUTH_CACHE_TTL_MS, DEFAULT_IDEMPOTENCY_LEASE_MS } from '@chargeonce/api';
import { DEFAULT_POOL_SIZE, MIN_IDEMPOTENCY_RETENTION_MS } from '@chargeonce/db';
import {
  DEFAULT_PAY_POLICY,
  DEFAULT_RECONCILE_WINDOW_MS,
  DEFAULT_RECOVERY_POLICY,
  defaultCallTimeoutMs,
  MAX_KEY_WINDOW_MS,
  STRIPE_DEFAULTS,
} from '@chargeonce/payments';
import { z } from 'zod';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE } from './auth-limit';
import { type Config, LOG_LEVELS } from './config-types';
import {
  type DatabaseOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  isPostgresUrl,
} from './database-config';
import { DEFAULT_SESSION_TTL_MS } from './session';
import { shutdownEnv, shutdownOf } from './shutdown-config';
import { trustProxyOf } from './trust-proxy';

export type { Config } from './config-types';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

/** Every environment variable the server reads, parsed once at the entry point. */
const envSchema = z.object({
  PORT: int(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(isPostgresUrl, {
        message:
          'DATABASE_URL must be a postgres:// URL (one host, or several: postgres://h1:5432,h2:5432/db)',
      })
      .optional(),
  ),
  DATABASE_POOL_MAX: int(DEFAULT_POOL_SIZE, 1),
  // `false` behind a pooler that keeps no prepared statements across transactions (PgBouncer < 1.21
  // in transaction mode); `?prepare=false` in the URL does the same.
  DATABASE_PREPARE: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).optional()),
  DATABASE_STATEMENT_TIMEOUT_MS: int(DEFAULT_STATEMENT_TIMEOUT_MS),
  DATABASE_CONNECT_TIMEOUT_MS: int(DEFAULT_CONNECT_TIMEOUT_MS, 100),
  STRIPE_SECRET_KEY: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^(sk|rk)_(test|live)_/, {
        message: 'STRIPE_SECRET_KEY must start with sk_test_, sk_live_ or rk_',
      })
      .optional(),
  ),
  STRIPE_API_BASE: z.preprocess(emptyAsUndefined, z.url().optional()),
  STRIPE_TIMEOUT_MS: int(STRIPE_DEFAULTS.timeoutMs, 1),
  STRIPE_MAX_NETWORK_RETRIES: int(STRIPE_DEFAULTS.maxNetworkRetries),
  // Default: every try may take its full timeout (see defaultCallTimeoutMs).
  STRIPE_CALL_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).optional()),
  STRIPE_EMULATOR_PORT: int(0),
  CHARGEONCE_DATA_DIR: optionalString,
  CHARGEONCE_INSTANCE_ID: optionalString,
  CHARGEONCE_PAY_DEADLINE_MS: int(DEFAULT_PAY_POLICY.deadlineMs, 1),
  CHARGEONCE_DECLINE_COOLDOWN_MS: int(DEFAULT_PAY_POLICY.declineCooldownMs),
  CHARGEONCE_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  // `emulator`: pay with the in-process Stripe emulator's fake PaymentIntents even though a real
  // database is configured; never implied once DATABASE_URL is set.
  CHARGEONCE_STRIPE: z.preprocess(emptyAsUndefined, z.enum(['emulator']).optional()),
  // At most a minute: the revocation bound it sets must stay small.
  CHARGEONCE_AUTH_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(AUTH_CACHE_TTL_MS),
  // `on`: a customer (user token, web session) refunds its own paid orders; `off`: only services
  // with orders:refund do.
  CHARGEONCE_CUSTOMER_REFUNDS: z.enum(['on', 'off']).default('on'),
  // The proxies in front whose X-Forwarded-For / -Proto are believed: `true` (any), or addresses
  // and CIDRs (`loopback`, `10.0.0.0/8,...`). Unset: none (the socket address is the client).
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.string().optional()),
  CHARGEONCE_SESSION_TTL_MS: int(DEFAULT_SESSION_TTL_MS, 60_000),
  CHARGEONCE_AUTH_FAILURES_PER_MINUTE: int(DEFAULT_AUTH_FAILURES_PER_MINUTE, 1),
  METRICS_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  METRICS_HOST: z.string().default('127.0.0.1'),
  STRIPE_WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^whsec_/, { message: 'STRIPE_WEBHOOK_SECRET must start with whsec_' })
      .optional(),
  ),
  CHARGEONCE_RECOVERY_INTERVAL_MS: int(10_000),
  CHARGEONCE_RECOVERY_GRACE_MS: int(DEFAULT_RECOVERY_POLICY.graceMs),
  // At least the longest provider call (STRIPE_CALL_TIMEOUT_MS), so a lease never expires under a
  // create that is still running.
  CHARGEONCE_RECOVERY_LEASE_MS: int(DEFAULT_RECOVERY_POLICY.leaseMs, 1),
  CHARGEONCE_PROVIDER_KEY_WINDOW_MS: int(DEFAULT_RECOVERY_POLICY.keyWindowMs, 1),
  // 3-D Secure: where the customer's browser comes back (`{orderId}` replaced); default the web
  // client's order page on this server. How long a challenge may stay open, and when an open
  // authorization is first re-read for a lapsed hold.
  CHARGEONCE_RETURN_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((u) => URL.canParse(u.replaceAll('{orderId}', 'x')) && /^https?:/.test(u), {
        message: 'CHARGEONCE_RETURN_URL must be an http(s) URL (with {orderId} where the order id goes)',
      })
      .optional(),
  ),
  CHARGEONCE_CHALLENGE_TIMEOUT_MS: int(DEFAULT_RECOVERY_POLICY.challengeTimeoutMs, 1),
  CHARGEONCE_AUTHORIZATION_CHECK_AFTER_MS: int(DEFAULT_RECOVERY_POLICY.authorizationCheckAfterMs),
  CHARGEONCE_RECONCILE_INTERVAL_MS: int(0),
  CHARGEONCE_RECONCILE_WINDOW_MS: int(DEFAULT_RECONCILE_WINDOW_MS, 1),
  // How long a request holds its idempotency key (see checkRecoverySafety), how long keys are kept
  // (at least 24 h, Stripe's window), and how often the reaper removes older ones (0: never).
  CHARGEONCE_IDEMPOTENCY_LEASE_MS: int(DEFAULT_IDEMPOTENCY_LEASE_MS, 1),
  CHARGEONCE_IDEMPOTENCY_RETENTION_MS: int(MIN_IDEMPOTENCY_RETENTION_MS, MIN_IDEMPOTENCY_RETENTION_MS),
  CHARGEONCE_IDEMPOTENCY_REAP_INTERVAL_MS: int(60 * 60_000),
  CHARGEONCE_WEB_DIST: optionalString,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ...shutdownEnv,
});

/** Default data directory: `<repo>/.data`, whatever the working directory. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.data', import.meta.url));

/** Default web client build: `<repo>/apps/web/dist`. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` with `schema`; a problem names the variable, never its value (it may be a secret). */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ConfigError(`invalid configuration: ${problems}`);
}

const databaseFields = {
  DATABASE_URL: true,
  CHARGEONCE_DATA_DIR: true,
  DATABASE_PREPARE: true,
  DATABASE_STATEMENT_TIMEOUT_MS: true,
  DATABASE_CONNECT_TIMEOUT_MS: true,
} as const;

function databaseOptionsOf(
  e: z.infer<ReturnType<typeof envSchema.pick<typeof databaseFields>>>,
): DatabaseOptions {
  return {
    prepare: e.DATABASE_PREPARE === undefined ? undefined : e.DATABASE_PREPARE === 'true',
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
  };
}

/** Only where the database is and how to talk to it, for tools that need nothing else (`pnpm admin`). */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv): {
  databaseUrl: string | undefined;
  dataDir: string;
  database: DatabaseOptions;
} {
  const e = parseEnv(envSchema.pick(databaseFields), env);
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.CHARGEONCE_DATA_DIR ?? DEFAULT_DATA_DIR,
    database: databaseOptionsOf(e),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const e = parseEnv(envSchema, env);
  if (e.STRIPE_API_BASE && !e.STRIPE_SECRET_KEY) {
    throw new ConfigError('invalid configuration: STRIPE_API_BASE is set but STRIPE_SECRET_KEY is not');
  }
  checkProviderChoice(e);
  const stripeCalls = {
    timeoutMs: e.STRIPE_TIMEOUT_MS,
    maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
    callTimeoutMs:
      e.STRIPE_CALL_TIMEOUT_MS ?? defaultCallTimeoutMs(e.STRIPE_TIMEOUT_MS, e.STRIPE_MAX_NETWORK_RETRIES),
  };
  checkRecoverySafety(e, stripeCalls.callTimeoutMs);
  const shutdown = shutdownOf(e);
  if (typeof shutdown === 'string') throw new ConfigError(`invalid configuration: ${shutdown}`);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    database: databaseOptionsOf(e),
    stripe: e.STRIPE_SECRET_KEY ? { secretKey: e.STRIPE_SECRET_KEY, apiBase: e.STRIPE_API_BASE } : undefined,
    stripeCalls,
    emulatorPort: e.STRIPE_EMULATOR_PORT,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET,
    dataDir: e.CHARGEONCE_DATA_DIR ?? DEFAULT_DATA_DIR,
    instanceId: e.CHARGEONCE_INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    pay: {
      ...DEFAULT_PAY_POLICY,
      deadlineMs: e.CHARGEONCE_PAY_DEADLINE_MS,
      declineCooldownMs: e.CHARGEONCE_DECLINE_COOLDOWN_MS,
    },
    recovery: {
      intervalMs: e.CHARGEONCE_RECOVERY_INTERVAL_MS,
      policy: {
        ...DEFAULT_RECOVERY_POLICY,
        graceMs: e.CHARGEONCE_RECOVERY_GRACE_MS,
        leaseMs: e.CHARGEONCE_RECOVERY_LEASE_MS,
        keyWindowMs: e.CHARGEONCE_PROVIDER_KEY_WINDOW_MS,
        challengeTimeoutMs: e.CHARGEONCE_CHALLENGE_TIMEOUT_MS,
        authorizationCheckAfterMs: e.CHARGEONCE_AUTHORIZATION_CHECK_AFTER_MS,
      },
    },
    returnUrl: e.CHARGEONCE_RETURN_URL,
    reconcile: { intervalMs: e.CHARGEONCE_RECONCILE_INTERVAL_MS, windowMs: e.CHARGEONCE_RECONCILE_WINDOW_MS },
    idempotency: {
      leaseMs: e.CHARGEONCE_IDEMPOTENCY_LEASE_MS,
      retentionMs: e.CHARGEONCE_IDEMPOTENCY_RETENTION_MS,
      reapIntervalMs: e.CHARGEONCE_IDEMPOTENCY_REAP_INTERVAL_MS,
    },
    demoUser: e.CHARGEONCE_DEMO === 'on' || (e.CHARGEONCE_DEMO === 'auto' && !e.DATABASE_URL),
    authCacheMs: e.CHARGEONCE_AUTH_CACHE_MS,
    customerRefunds: e.CHARGEONCE_CUSTOMER_REFUNDS === 'on',
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    sessionTtlMs: e.CHARGEONCE_SESSION_TTL_MS,
    authFailuresPerMinute: e.CHARGEONCE_AUTH_FAILURES_PER_MINUTE,
    metrics: e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
    webDist: e.CHARGEONCE_WEB_DIST ?? DEFAULT_WEB_DIST,
    logLevel: e.LOG_LEVEL,
    shutdown,
    buildCommit: e.CHARGEONCE_BUILD_COMMIT,
  };
}

/**
 * A real database is never paid with fake PaymentIntents by accident: with DATABASE_URL set, the
 * emulator runs only when asked for by name; and it never runs next to a real Stripe key.
 */
function checkProviderChoice(e: z.infer<typeof envSchema>): void {
  // The demo user is for a developer's machine: never next to the real Stripe API.
  if (e.CHARGEONCE_DEMO === 'on' && e.STRIPE_SECRET_KEY && !e.STRIPE_API_BASE) {
    throw new ConfigError(
      'invalid configuration: CHARGEONCE_DEMO=on with STRIPE_SECRET_KEY set: the demo user is for local use only',
    );
  }
  if (e.CHARGEONCE_STRIPE === 'emulator' && e.STRIPE_SECRET_KEY) {
    throw new ConfigError(
      'invalid configuration: CHARGEONCE_STRIPE=emulator and STRIPE_SECRET_KEY are both set; unset one',
    );
  }
  if (e.DATABASE_URL && !e.STRIPE_SECRET_KEY && e.CHARGEONCE_STRIPE !== 'emulator') {
    throw new ConfigError(
      'invalid configuration: DATABASE_URL is set but STRIPE_SECRET_KEY is not: set STRIPE_SECRET_KEY, ' +
        "or CHARGEONCE_STRIPE=emulator to pay this database with the Stripe emulator's fake PaymentIntents",
    );
  }
}

/**
 * Recovery is only exactly-once within these bounds, so a configuration outside them is refused:
 * - repeating a create with the same key is safe only while Stripe still has the key;
 * - a lease must outlive the longest provider call (the gateway cuts every call at
 *   `callTimeoutMs`), or a second worker could act while the first one's create is still running;
 * - an attempt may be judged "nothing was charged" (past the key window) only after any create for
 *   it has certainly finished;
 * - a request holds its idempotency key for a lease that must outlive the longest request (a pay:
 *   its deadline, then one provider call), or a retry could run while it still does.
 */
function checkRecoverySafety(e: z.infer<typeof envSchema>, callTimeoutMs: number): void {
  const problems: string[] = [];
  if (e.CHARGEONCE_PROVIDER_KEY_WINDOW_MS > MAX_KEY_WINDOW_MS) {
    problems.push(
      `CHARGEONCE_PROVIDER_KEY_WINDOW_MS must be at most ${MAX_KEY_WINDOW_MS} (Stripe keeps keys 24 h)`,
    );
  }
  if (e.CHARGEONCE_RECOVERY_LEASE_MS < callTimeoutMs) {
    problems.push(
      `CHARGEONCE_RECOVERY_LEASE_MS must be at least ${callTimeoutMs} (the longest provider call, STRIPE_CALL_TIMEOUT_MS)`,
    );
  }
  if (e.CHARGEONCE_PROVIDER_KEY_WINDOW_MS < e.CHARGEONCE_RECOVERY_GRACE_MS + callTimeoutMs) {
    problems.push(
      `CHARGEONCE_PROVIDER_KEY_WINDOW_MS must be at least CHARGEONCE_RECOVERY_GRACE_MS + ${callTimeoutMs} ms`,
    );
  }
  const longestPay = e.CHARGEONCE_PAY_DEADLINE_MS + callTimeoutMs;
  if (e.CHARGEONCE_IDEMPOTENCY_LEASE_MS < longestPay) {
    problems.push(
      `CHARGEONCE_IDEMPOTENCY_LEASE_MS must be at least ${longestPay} (CHARGEONCE_PAY_DEADLINE_MS + the longest provider call)`,
    );
  }
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
