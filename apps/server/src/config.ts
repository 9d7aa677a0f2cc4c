import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_POOL_SIZE } from '@chargeonce/db';
import {
  DEFAULT_PAY_POLICY,
  DEFAULT_RECONCILE_WINDOW_MS,
  DEFAULT_RECOVERY_POLICY,
  defaultCallTimeoutMs,
  MAX_KEY_WINDOW_MS,
  type PayPolicy,
  type RecoveryPolicy,
  STRIPE_DEFAULTS,
} from '@chargeonce/payments';
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

/** Every environment variable the server reads, parsed once at the entry point. */
const envSchema = z.object({
  PORT: int(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_MAX: int(DEFAULT_POOL_SIZE, 1),
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
  CHARGEONCE_RECONCILE_INTERVAL_MS: int(0),
  CHARGEONCE_RECONCILE_WINDOW_MS: int(DEFAULT_RECONCILE_WINDOW_MS, 1),
  CHARGEONCE_WEB_DIST: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  /** Unset: run an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolMax: number;
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
  /** Periodic reconciliation of the last `windowMs`; interval 0 = off (use `pnpm reconcile`). */
  reconcile: { intervalMs: number; windowMs: number };
  demoUser: boolean;
  /** The built web client served at `/` when it holds an index.html (`pnpm start` builds it). */
  webDist: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

/** Default data directory: `<repo>/.data`, whatever the working directory. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.data', import.meta.url));

/** Default web client build: `<repo>/apps/web/dist`. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Name the variable and the problem, never echo the value (it may be a secret).
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.STRIPE_API_BASE && !e.STRIPE_SECRET_KEY) {
    throw new ConfigError('invalid configuration: STRIPE_API_BASE is set but STRIPE_SECRET_KEY is not');
  }
  const stripeCalls = {
    timeoutMs: e.STRIPE_TIMEOUT_MS,
    maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
    callTimeoutMs:
      e.STRIPE_CALL_TIMEOUT_MS ?? defaultCallTimeoutMs(e.STRIPE_TIMEOUT_MS, e.STRIPE_MAX_NETWORK_RETRIES),
  };
  checkRecoverySafety(e, stripeCalls.callTimeoutMs);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
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
      },
    },
    reconcile: { intervalMs: e.CHARGEONCE_RECONCILE_INTERVAL_MS, windowMs: e.CHARGEONCE_RECONCILE_WINDOW_MS },
    demoUser: e.CHARGEONCE_DEMO === 'on' || (e.CHARGEONCE_DEMO === 'auto' && !e.DATABASE_URL),
    webDist: e.CHARGEONCE_WEB_DIST ?? DEFAULT_WEB_DIST,
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * Recovery is only exactly-once within these bounds, so a configuration outside them is refused:
 * - repeating a create with the same key is safe only while Stripe still has the key;
 * - a lease must outlive the longest provider call (the gateway cuts every call at
 *   `callTimeoutMs`), or a second worker could act while the first one's create is still running;
 * - an attempt may be judged "nothing was charged" (past the key window) only after any create for
 *   it has certainly finished.
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
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
