import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DATA_DIR, loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('with nothing configured: embedded services, demo user, port 3000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      stripe: undefined,
      demoUser: true,
      dataDir: DEFAULT_DATA_DIR,
    });
    expect(DEFAULT_DATA_DIR).toMatch(/\.data$/);
  });

  it('DATABASE_URL switches to an external database and turns the demo user off by default', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      STRIPE_SECRET_KEY: 'sk_test_abc',
      PORT: '0',
    });
    expect(config).toMatchObject({ databaseUrl: 'postgres://u:p@db:5432/app', port: 0, demoUser: false });
  });

  it('a Stripe key selects real Stripe (or the given API base) instead of the emulator', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc' }).stripe).toEqual({
      secretKey: 'sk_test_abc',
      apiBase: undefined,
    });
    expect(
      loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_API_BASE: 'http://127.0.0.1:12111' }).stripe,
    ).toEqual({ secretKey: 'sk_test_abc', apiBase: 'http://127.0.0.1:12111' });
  });

  it('empty strings count as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', STRIPE_SECRET_KEY: '' })).toMatchObject({
      databaseUrl: undefined,
      stripe: undefined,
    });
  });

  it('rejects bad values naming the variable but never echoing a secret', () => {
    const attempt = () =>
      loadConfig({ STRIPE_SECRET_KEY: 'pk_live_topsecret', PORT: '-1', DATABASE_URL: 'mysql://x' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/STRIPE_SECRET_KEY/);
      expect(message).toMatch(/PORT/);
      expect(message).toMatch(/DATABASE_URL/);
      expect(message).not.toMatch(/topsecret/);
    }
    expect(() => loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:1' })).toThrow(/STRIPE_SECRET_KEY is not/);
  });
});

describe('recovery safety', () => {
  it('refuses a key window longer than Stripe keeps keys, or a lease shorter than the longest call', () => {
    expect(() => loadConfig({ CHARGEONCE_PROVIDER_KEY_WINDOW_MS: String(25 * 3_600_000) })).toThrow(
      /KEY_WINDOW_MS must be at most/,
    );
    expect(() => loadConfig({ CHARGEONCE_RECOVERY_LEASE_MS: '1000' })).toThrow(/LEASE_MS must be at least/);
    expect(() => loadConfig({ CHARGEONCE_PROVIDER_KEY_WINDOW_MS: '5000' })).toThrow(
      /KEY_WINDOW_MS must be at least CHARGEONCE_RECOVERY_GRACE_MS/,
    );
  });
  it('accepts the defaults and tight but safe test settings', () => {
    expect(() => loadConfig({})).not.toThrow();
    expect(() =>
      loadConfig({
        STRIPE_TIMEOUT_MS: '300',
        STRIPE_MAX_NETWORK_RETRIES: '0',
        CHARGEONCE_RECOVERY_GRACE_MS: '1000',
        CHARGEONCE_RECOVERY_LEASE_MS: '2000',
        CHARGEONCE_PROVIDER_KEY_WINDOW_MS: '5000',
      }),
    ).not.toThrow();
  });
});

describe('idempotency keys', () => {
  it('kept 24 h by default, never less; the lease outlives the longest pay', async () => {
    const { DEFAULT_IDEMPOTENCY_LEASE_MS } = await import('@chargeonce/api');
    expect(loadConfig({}).idempotency).toEqual({
      leaseMs: DEFAULT_IDEMPOTENCY_LEASE_MS,
      retentionMs: 24 * 3_600_000,
      reapIntervalMs: 3_600_000,
    });
    expect(() => loadConfig({ CHARGEONCE_IDEMPOTENCY_RETENTION_MS: String(23 * 3_600_000) })).toThrow(
      /CHARGEONCE_IDEMPOTENCY_RETENTION_MS/,
    );
    // Default pay: a 10 s deadline, then a call of up to 3 × 20 s.
    expect(() => loadConfig({ CHARGEONCE_IDEMPOTENCY_LEASE_MS: '60000' })).toThrow(
      /CHARGEONCE_IDEMPOTENCY_LEASE_MS must be at least 70000/,
    );
    const tight = { CHARGEONCE_PAY_DEADLINE_MS: '500', STRIPE_CALL_TIMEOUT_MS: '1000' };
    expect(loadConfig({ ...tight, CHARGEONCE_IDEMPOTENCY_LEASE_MS: '1500' }).idempotency.leaseMs).toBe(1500);
  });
});

describe('defaults come from the domain', () => {
  it('pay and recovery policies, pool size and Stripe bounds are the domain packages’ own', async () => {
    const { DEFAULT_PAY_POLICY, DEFAULT_RECOVERY_POLICY, STRIPE_DEFAULTS } = await import(
      '@chargeonce/payments'
    );
    const { DEFAULT_POOL_SIZE } = await import('@chargeonce/db');
    const config = loadConfig({});
    expect(config.pay).toEqual(DEFAULT_PAY_POLICY);
    expect(config.recovery.policy).toEqual(DEFAULT_RECOVERY_POLICY);
    expect(config.databasePoolMax).toBe(DEFAULT_POOL_SIZE);
    // Every try may take its full timeout.
    expect(config.stripeCalls).toEqual({
      ...STRIPE_DEFAULTS,
      callTimeoutMs: (STRIPE_DEFAULTS.maxNetworkRetries + 1) * STRIPE_DEFAULTS.timeoutMs,
    });
  });

  it('the environment overrides them, and the lease is checked against the call bound', () => {
    const config = loadConfig({ CHARGEONCE_DECLINE_COOLDOWN_MS: '0', STRIPE_CALL_TIMEOUT_MS: '5000' });
    expect(config.pay.declineCooldownMs).toBe(0);
    expect(config.stripeCalls.callTimeoutMs).toBe(5000);
    expect(() => loadConfig({ STRIPE_CALL_TIMEOUT_MS: '200000' })).toThrow(
      /CHARGEONCE_RECOVERY_LEASE_MS must be at least 200000/,
    );
  });
});

describe('the database as deployed', () => {
  it('accepts a multi-host URL (failover), a pooler switch and timeouts; refuses what is not a postgres URL', () => {
    const multi =
      'postgres://chargeonce:secret@db1.internal:5432,db2.internal:5432/chargeonce?target_session_attrs=read-write';
    expect(loadConfig({ DATABASE_URL: multi, CHARGEONCE_STRIPE: 'emulator' }).databaseUrl).toBe(multi);
    const config = loadConfig({
      DATABASE_URL: 'postgres://127.0.0.1:6432/chargeonce',
      CHARGEONCE_STRIPE: 'emulator',
      DATABASE_PREPARE: 'false',
      DATABASE_STATEMENT_TIMEOUT_MS: '5000',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
    });
    expect(config.database).toEqual({ prepare: false, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
    expect(loadConfig({}).database).toEqual({
      prepare: undefined,
      statementTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
    });
    for (const bad of ['mysql://x/db', 'postgres://', 'postgres://h1:5432,,h2/db', 'not a url']) {
      expect(() => loadConfig({ DATABASE_URL: bad }), bad).toThrow(/DATABASE_URL/);
    }
    expect(() => loadConfig({ DATABASE_PREPARE: 'no' })).toThrow(/DATABASE_PREPARE/);
  });
});

describe('3-D Secure and holds', () => {
  it('the return URL is unset (the server then uses its own order page) or an http(s) URL; timeouts are the policy’s', () => {
    expect(loadConfig({}).returnUrl).toBeUndefined();
    const config = loadConfig({
      CHARGEONCE_RETURN_URL: 'https://shop.example/orders/{orderId}',
      CHARGEONCE_CHALLENGE_TIMEOUT_MS: '60000',
      CHARGEONCE_AUTHORIZATION_CHECK_AFTER_MS: '0',
    });
    expect(config.returnUrl).toBe('https://shop.example/orders/{orderId}');
    expect(config.recovery.policy).toMatchObject({
      challengeTimeoutMs: 60_000,
      authorizationCheckAfterMs: 0,
    });
    for (const bad of ['shop.example/orders', 'javascript:alert(1)', 'ftp://x/{orderId}']) {
      expect(() => loadConfig({ CHARGEONCE_RETURN_URL: bad }), bad).toThrow(/CHARGEONCE_RETURN_URL/);
    }
    expect(() => loadConfig({ CHARGEONCE_CHALLENGE_TIMEOUT_MS: '0' })).toThrow(
      /CHARGEONCE_CHALLENGE_TIMEOUT_MS/,
    );
  });
});

describe('safe by default', () => {
  it('a real database is not paid with the emulator unless asked for by name', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app' })).toThrow(
      /DATABASE_URL is set but STRIPE_SECRET_KEY is not: set STRIPE_SECRET_KEY, or CHARGEONCE_STRIPE=emulator/,
    );
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app', CHARGEONCE_STRIPE: 'emulator' });
    expect(config.stripe).toBeUndefined();
    expect(() => loadConfig({ CHARGEONCE_STRIPE: 'emulator', STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow(
      /both set/,
    );
    expect(() => loadConfig({ CHARGEONCE_STRIPE: 'stripe' })).toThrow(/CHARGEONCE_STRIPE/);
    // The demo user is for a developer's machine: never next to a real Stripe key.
    expect(() => loadConfig({ CHARGEONCE_DEMO: 'on', STRIPE_SECRET_KEY: 'sk_live_abc' })).toThrow(
      /CHARGEONCE_DEMO=on with STRIPE_SECRET_KEY/,
    );
    expect(() => loadConfig({ CHARGEONCE_AUTH_CACHE_MS: '600000' })).toThrow(/CHARGEONCE_AUTH_CACHE_MS/);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(loadConfig({}).trustProxy).toBe(false);
  });

  it('/metrics on its own listener only when METRICS_PORT is set; auth limits have defaults', () => {
    expect(loadConfig({}).metrics).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({})).toMatchObject({ authCacheMs: 5_000, authFailuresPerMinute: 20 });
  });
});
