import { type ChargeonceClient, createChargeonceClient } from '@chargeonce/client';
import {
  createDb,
  createService,
  createUserWithToken,
  type DbHandle,
  issueToken,
  type Scope,
} from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { createStripeGateway, type PaymentsDeps } from '@chargeonce/payments';
import { loadConfig, type Running, type StartOptions, startChargeonce } from '@chargeonce/server';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { expect } from 'vitest';

export interface InProcess {
  database: TestDatabase;
  db: DbHandle;
  emulator: StripeEmulator;
  server: Running;
  newUser(
    name?: string,
  ): Promise<{ id: string; token: string; client: ReturnType<typeof createChargeonceClient> }>;
  /** A new service with a token carrying `scopes`. */
  newService(
    scopes: readonly Scope[],
    name?: string,
  ): Promise<{ id: string; token: string; client: ReturnType<typeof createChargeonceClient> }>;
  paymentIntentsFor(orderId: string): ReturnType<StripeEmulator['paymentIntents']>;
  /**
   * Pays with the provider slower than the server's Stripe timeout, so the charge lands but its
   * response is lost: the pay answers `processing`. Resolves once the charge is at the provider.
   * Needs a server started with a Stripe timeout below `latencyMs`.
   */
  payWithLostResponse(client: ChargeonceClient, orderId: string, latencyMs?: number): Promise<void>;
  /** Payments deps on the same database and emulator, for tests that drive recovery or reconcile. */
  paymentsDeps(instanceId: string): PaymentsDeps;
  stop(): Promise<void>;
}

/** One real server (in this process) over real PostgreSQL and the emulator, spoken to over HTTP. */
export async function startInProcess(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<InProcess> {
  const database = await startTestDatabase();
  const emulator = await startStripeEmulator();
  const server = await startChargeonce(
    loadConfig({
      DATABASE_URL: database.url,
      STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
      STRIPE_API_BASE: emulator.url,
      PORT: '0',
      CHARGEONCE_DEMO: 'off',
      CHARGEONCE_INSTANCE_ID: 'in-process',
      LOG_LEVEL: 'silent',
      ...env,
    }),
    options,
  );
  const db = createDb(database.url, { max: 4 });
  return {
    database,
    db,
    emulator,
    server,
    async newUser(name = 'user') {
      const user = await createUserWithToken(db.db, { name });
      return {
        id: user.id,
        token: user.token,
        client: createChargeonceClient({ url: server.url, token: user.token }),
      };
    },
    async newService(scopes, name = `service-${Math.random().toString(36).slice(2, 10)}`) {
      const service = await createService(db.db, { name });
      const { token } = await issueToken(db.db, {
        owner: { kind: 'service', serviceId: service.id },
        scopes,
      });
      return { id: service.id, token, client: createChargeonceClient({ url: server.url, token }) };
    },
    paymentIntentsFor: (orderId) =>
      emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId),
    async payWithLostResponse(client, orderId, latencyMs = 800) {
      emulator.setLatency(latencyMs);
      try {
        const result = await client.orders.pay.mutate({ orderId });
        if (result.outcome !== 'processing') throw new Error(`expected processing, got ${result.outcome}`);
      } finally {
        emulator.setLatency(0);
      }
      const charged = () => emulator.paymentIntents().some((pi) => pi.metadata.order_id === orderId);
      await expect.poll(charged, { message: 'the charge to land at the provider' }).toBe(true);
    },
    paymentsDeps: (instanceId) => ({
      db: db.db,
      gateway: createStripeGateway({
        secretKey: EMULATOR_SECRET_KEY,
        apiBase: emulator.url,
        maxNetworkRetries: 0,
      }),
      instanceId,
    }),
    async stop() {
      await server.close();
      await db.close();
      await emulator.close();
      await database.stop();
    },
  };
}
